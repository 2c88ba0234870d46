# An established tunnel whose ESP is dropped in one direction: the responder's namespace
# drops incoming ESP-in-UDP (UDP 4500 whose first four payload bytes, the SPI, are not the
# zero non-ESP marker; IKE on 4500 still passes). The capture on the responder's veth sees
# the initiator's ESP before the drop; the responder never gets the echo requests, so it
# sends nothing back: ESP on the responder's inbound SPI only, its outbound SPI silent.
pre_start() {
  ip netns exec "$NS_R" nft -f - <<'NFT'
table inet ikvlab_esp {
  chain input {
    type filter hook input priority filter; policy accept;
    udp dport 4500 @th,64,32 != 0 counter drop
  }
}
NFT
}
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  if ping_tunnel 5; then
    echo "esp-one-way: pings unexpectedly answered" >&2
    return 1
  fi
  ip netns exec "$NS_R" nft list ruleset
  sw initiator --list-sas
  sw responder --list-sas
  sw initiator --terminate --ike lab --timeout 10 || true
}
