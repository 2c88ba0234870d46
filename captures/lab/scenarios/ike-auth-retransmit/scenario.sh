# Retransmission that succeeds: the router between the peers drops the first two IKE_AUTH
# requests (IKE exchange type 35 after the non-ESP marker on UDP 4500; an nftables quota of
# 700 bytes covers two 336-byte packets). The initiator retransmits after 1 s and 1.8 s more
# (retransmit_timeout = 1.0, default base 1.8); the third copy gets through and is answered.
# capture.pcap is taken on the router's initiator-side interface, before the drop, so all
# three copies and the one response are in it.
TOPOLOGY=router
CAP_NS=$NS_N
CAP_IF=veth-ni
pre_start() {
  ip netns exec "$NS_N" nft -f - <<'NFT'
table ip ikvlab_retx {
  chain forward {
    type filter hook forward priority filter; policy accept;
    oifname "veth-nr" udp dport 4500 @th,64,32 == 0 @th,240,8 == 35 quota until 700 bytes counter drop
  }
}
NFT
}
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 2
  ip netns exec "$NS_N" nft list ruleset
  sw initiator --terminate --ike lab --timeout 10 || true
}
