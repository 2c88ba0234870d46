# Identity mismatch: the initiator's remote id is vpn.lab.example, sent as IDr in IKE_AUTH;
# the responder is responder.lab.example. Its peer-config lookup for IDi
# initiator.lab.example / IDr vpn.lab.example fails ("no matching peer config found") and it
# answers IKE_AUTH with N(AUTHENTICATION_FAILED), although the initiator's AUTH is made with
# the right PSK (one secret for any identity on both sides).
TRIM_LOGS=1  # the logs keep what the lab uses (trim_log.py)
run_actions() {
  if sw initiator --initiate --child net --timeout 10; then
    echo "id-mismatch: IKE_SA unexpectedly established" >&2
    return 1
  fi
  sleep 0.5
}
