# A childless IKE SA (RFC 6023, childless = force on both peers): IKE_AUTH carries no SA, TSi
# or TSr; the CHILD_SA is then made with CREATE_CHILD_SA (ESP proposal with MODP-2048, so
# with a KE payload), pings through it, delete.
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 2
  sw initiator --list-sas
  sw initiator --terminate --ike lab --timeout 10 || true
}
