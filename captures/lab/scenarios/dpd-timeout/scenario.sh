# An established tunnel (pings both ways), then the responder's namespace goes silent: an
# nftables input rule drops every IKE and ESP packet to it (the capture on its veth still sees
# them). The initiator's DPD (dpd_delay = 2s) sends an empty INFORMATIONAL, retransmits it
# (1 s, 1.5 s, 2.25 s, 3.4 s; 3 retransmissions) and gives up, deleting the IKE SA locally.
CHARON_EXTRA="retransmit_tries = 3
  retransmit_timeout = 1.0
  retransmit_base = 1.5"
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 3
  ip netns exec "$NS_R" nft -f - <<'NFT'
table inet ikvlab_silent {
  chain input {
    type filter hook input priority filter; policy accept;
    udp dport { 500, 4500 } counter drop
  }
}
NFT
  # DPD after 2 s idle, then about 8 s of retransmissions.
  local i
  for i in $(seq 30); do
    sleep 1
    sw initiator --list-sas | grep -q ESTABLISHED || break
  done
  sw initiator --list-sas
  ip netns exec "$NS_R" nft list ruleset
  if sw initiator --list-sas | grep -q ESTABLISHED; then
    echo "dpd-timeout: the initiator never gave up" >&2
    return 1
  fi
}
