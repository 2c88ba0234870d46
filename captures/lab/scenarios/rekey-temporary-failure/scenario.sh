# The initiator rekeys a child SA the responder is deleting: the responder terminates the
# child SA, but its Delete never reaches the initiator (the initiator's namespace drops IKE
# requests from the responder: UDP 4500, non-ESP marker, R flag clear); the initiator then
# rekeys that child SA and the responder, still deleting it, answers N(TEMPORARY_FAILURE).
CHARON_EXTRA="retransmit_tries = 2
  retransmit_timeout = 1.0
  retransmit_base = 1.5"
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 2
  ip netns exec "$NS_I" nft -f - <<'NFT'
table inet ikvdia_norequests {
  chain input {
    type filter hook input priority filter; policy accept;
    udp sport 4500 @th,64,32 == 0 @th,250,1 == 0 counter drop
  }
}
NFT
  sw responder --terminate --child net --timeout 1 || true
  sleep 0.3
  sw initiator --rekey --child net || true
  sleep 1.5
  ip netns exec "$NS_I" nft list ruleset
  sw initiator --list-sas || true
  sw responder --list-sas || true
  ip netns exec "$NS_I" nft delete table inet ikvdia_norequests
  sw initiator --terminate --ike lab --timeout 10 || true
}
