# ESP loss on the path: the router between the peers drops every third ESP-in-UDP packet it
# forwards towards the responder (nftables numgen counter; IKE on 4500 passes). capture.pcap is
# taken on the responder's veth, after the router, so the initiator's ESP sequence numbers
# there have gaps (3, 6, 9 missing) and the echo requests that were lost get no reply.
TOPOLOGY=router
pre_start() {
  ip netns exec "$NS_N" nft -f - <<'NFT'
table ip ikvlab_loss {
  chain forward {
    type filter hook forward priority filter; policy accept;
    oifname "veth-nr" udp dport 4500 @th,64,32 != 0 numgen inc mod 3 == 2 counter drop
  }
}
NFT
}
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 9 || true
  ip netns exec "$NS_N" nft list ruleset
  sw initiator --terminate --ike lab --timeout 10 || true
}
