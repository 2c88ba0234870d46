# Nothing answers the initiator: the responder's namespace drops every IKE packet in an
# nftables input hook (charon runs there but never sees them; no ICMP error either). The
# capture on the responder's veth sees the packets before the drop: the IKE_SA_INIT request
# and its retransmissions, never a response, until the initiator gives up.
# Short retransmission settings (1 s, 1.5 s, 2.25 s, 3.4 s; 3 retransmissions) so it ends in
# about 8 s (RFC 7296 2.1 leaves the schedule to the implementation).
CHARON_EXTRA="retransmit_tries = 3
  retransmit_timeout = 1.0
  retransmit_base = 1.5"
pre_start() {
  ip netns exec "$NS_R" nft -f - <<'NFT'
table inet ikvlab_drop {
  chain input {
    type filter hook input priority filter; policy accept;
    udp dport { 500, 4500 } drop
  }
}
NFT
}
run_actions() {
  if sw initiator --initiate --child net --timeout 30; then
    echo "unreachable-responder: initiate unexpectedly succeeded" >&2
    return 1
  fi
  sleep 0.5
}
