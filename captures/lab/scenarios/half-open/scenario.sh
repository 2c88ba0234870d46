# The responder's answers never reach the initiator: the initiator's namespace drops incoming
# IKE (UDP 500 and 4500). The capture on the responder's veth sees each IKE_SA_INIT request
# (and its retransmissions) answered, and no IKE_AUTH ever: half-open SAs on the responder.
# Short retransmission settings so the initiator gives up in a few seconds.
CHARON_EXTRA="retransmit_tries = 2
  retransmit_timeout = 1.0
  retransmit_base = 1.5"
pre_start() {
  ip netns exec "$NS_I" nft -f - <<'NFT'
table inet ikvdia_halfopen {
  chain input {
    type filter hook input priority filter; policy accept;
    udp sport { 500, 4500 } counter drop
  }
}
NFT
}
run_actions() {
  if sw initiator --initiate --child net --timeout 30; then
    echo "half-open: initiate unexpectedly succeeded" >&2
    return 1
  fi
  ip netns exec "$NS_I" nft list ruleset
  sleep 6
}
