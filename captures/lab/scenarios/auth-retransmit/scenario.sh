# IKE_AUTH answered only after retransmissions: the responder's namespace drops incoming IKE
# on UDP 4500 (non-ESP marker: first four payload bytes zero) for the first 1.8 s, so the
# initiator's IKE_AUTH request (sent at 0 s and, with the short schedule below, again at 1 s)
# is lost until its third copy (2.5 s), which is answered at once. The capture on the
# responder's veth sees every copy before the drop. Then the usual pings and terminate.
CHARON_EXTRA="retransmit_tries = 3
  retransmit_timeout = 1.0
  retransmit_base = 1.5"
pre_start() {
  ip netns exec "$NS_R" nft -f - <<'NFT'
table inet ikvdia_rtx {
  chain input {
    type filter hook input priority filter; policy accept;
    udp dport 4500 @th,64,32 == 0 counter drop
  }
}
NFT
}
run_actions() {
  sw initiator --initiate --child net --timeout 20 &
  local init_pid=$!
  sleep 1.8
  ip netns exec "$NS_R" nft list ruleset
  ip netns exec "$NS_R" nft delete table inet ikvdia_rtx
  wait "$init_pid"
  sleep 0.5
  ping_tunnel 3
  sw initiator --terminate --ike lab --timeout 10 || true
}
