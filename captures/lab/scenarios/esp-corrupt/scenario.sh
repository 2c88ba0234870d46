# ESP damaged on the path: the router overwrites one ciphertext byte (UDP payload offset 34,
# inside the AES-CBC ciphertext after SPI, sequence number and IV) of every third ESP-in-UDP
# packet it forwards towards the responder (nftables payload statement; the UDP checksum is
# recomputed). capture.pcap is taken on the responder's veth, after the router: those packets
# fail the responder's ICV check and their echo requests get no reply.
TOPOLOGY=router
pre_start() {
  ip netns exec "$NS_N" nft -f - <<'NFT'
table ip ikvlab_corrupt {
  chain forward {
    type filter hook forward priority filter; policy accept;
    oifname "veth-nr" udp dport 4500 @th,64,32 != 0 numgen inc mod 3 == 2 @th,336,8 set 0x5a counter
  }
}
NFT
}
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 6 || true
  ip netns exec "$NS_N" nft list ruleset
  sw initiator --terminate --ike lab --timeout 10 || true
}
