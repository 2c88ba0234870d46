# Redirect (RFC 5685) of an established IKE SA: the responder gateway (charon's vici
# "redirect" command) sends an INFORMATIONAL with N(REDIRECT) naming 192.0.2.4, a second
# address of the same responder. The initiator deletes the old IKE SA and sets up a new one
# (IKE_SA_INIT with N(REDIRECTED_FROM), IKE_AUTH) with 192.0.2.4; pings before and after.
pre_start() {
  ip -n "$NS_R" addr add 192.0.2.4/24 dev veth-r
}
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 2
  sw responder --redirect --ike lab --gateway 192.0.2.4
  local i
  for i in $(seq 30); do
    sleep 0.3
    sw initiator --list-sas | grep -q "192.0.2.4\[4500\]" && break
  done
  sleep 1
  sw initiator --list-sas
  ping_tunnel 2
  sw initiator --terminate --ike lab --timeout 10 || true
}
