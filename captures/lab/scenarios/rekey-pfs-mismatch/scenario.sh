# A PFS group mismatch that only shows when the CHILD_SA is rekeyed: the initiator's
# esp_proposals ask for MODP-2048, the responder's for ECP-256. IKE_AUTH carries no KE, so
# both drop the group and the first CHILD_SA is made (ESP AES-CBC-256 / HMAC-SHA2-256-128).
# At rekey_time = 3s the initiator sends CREATE_CHILD_SA with N(REKEY_SA) and a MODP-2048
# KE; the responder answers N(NO_PROPOSAL_CHOSEN); charon retries the rekey and is refused
# again; at life_time = 9s the CHILD_SA hard-expires and the initiator deletes it
# (INFORMATIONAL with a Delete), leaving the IKE SA without a child. Pings throughout.
TRIM_LOGS=1  # the logs keep what the lab uses (trim_log.py)
run_actions() {
  sw initiator --initiate --child net --timeout 20
  local i
  for i in $(seq 13); do
    ip netns exec "$NS_I" ping -c 1 -W 1 -I 198.51.100.1 203.0.113.1 || true
    sleep 0.8
  done
  sw initiator --list-sas
  sw initiator --terminate --ike lab --timeout 10 || true
}
