# ESP loss one way, duplicates the other, on an established tunnel. Once the tunnel is up the
# initiator's namespace drops every third ESP-in-UDP packet it sends (UDP 4500 whose first four
# payload bytes, the SPI, are not the zero non-ESP marker), before they reach the captured veth:
# its SPI shows sequence gaps. The responder's namespace sends each of its ESP packets twice
# (nftables dup to the initiator's address): its SPI shows every sequence number twice, which
# the initiator drops as replays (RFC 4303 3.4.3). Lost echo requests get no reply.
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ip netns exec "$NS_I" nft -f - <<'NFT'
table inet ikvdia_loss {
  chain output {
    type filter hook output priority filter; policy accept;
    udp dport 4500 @th,64,32 != 0 numgen inc mod 3 == 1 counter drop
  }
}
NFT
  ip netns exec "$NS_R" nft -f - <<NFT
table ip ikvdia_dup {
  chain output {
    type filter hook output priority filter; policy accept;
    udp sport 4500 @th,64,32 != 0 counter dup to $I_ADDR
  }
}
NFT
  ping_tunnel 6 || true
  ip netns exec "$NS_I" nft list ruleset
  ip netns exec "$NS_R" nft list ruleset
  ip netns exec "$NS_I" nft delete table inet ikvdia_loss
  ip netns exec "$NS_R" nft delete table ip ikvdia_dup
  sw initiator --terminate --ike lab --timeout 10 || true
}
