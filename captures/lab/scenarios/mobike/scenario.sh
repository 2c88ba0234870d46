# MOBIKE (RFC 4555, on by default in swanctl): an established tunnel, then the initiator gets
# a second address (192.0.2.3) on its link and loses the first (192.0.2.1). charon notices
# through netlink and moves the IKE SA and its CHILD_SA with an INFORMATIONAL carrying
# UPDATE_SA_ADDRESSES (and NAT detection); IKE and ESP then come from 192.0.2.3.
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 2
  # Without promote_secondaries, removing the primary address removes 192.0.2.3 with it.
  ip netns exec "$NS_I" sysctl -qw net.ipv4.conf.veth-i.promote_secondaries=1
  ip -n "$NS_I" addr add 192.0.2.3/24 dev veth-i
  sleep 1.5
  ip -n "$NS_I" addr del 192.0.2.1/24 dev veth-i
  # Wait until charon has moved the SA (UPDATE_SA_ADDRESSES answered).
  local i
  for i in $(seq 30); do
    sleep 0.3
    sw initiator --list-sas | grep -q "192.0.2.3\[4500\]" && break
  done
  sleep 0.5
  ping_tunnel 2
  sw initiator --list-sas
  sw initiator --terminate --ike lab --timeout 10 || true
}
