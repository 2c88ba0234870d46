# A COOKIE challenge (RFC 7296 2.6): the responder's charon asks for cookies as soon as one IKE
# SA is half-open (cookie_threshold = 1). The initiator starts two IKE SAs ("lab" and "lab2",
# children for 198.51.100.1 and .2) at the same moment: the first IKE_SA_INIT is answered
# normally and leaves a half-open SA, the second is answered with N(COOKIE) only, and the
# initiator repeats it with the cookie (same SPIi) before both complete.
CHARON_EXTRA="cookie_threshold = 1"
pre_start() {
  ip -n "$NS_I" addr add 198.51.100.2/32 dev lo
  ip -n "$NS_R" addr add 203.0.113.2/32 dev lo
}
run_actions() {
  sw initiator --initiate --child net --timeout 20 &
  local first=$!
  sw initiator --initiate --child net2 --timeout 20
  wait "$first"
  sleep 0.5
  ping_tunnel 2
  ip netns exec "$NS_I" ping -c 2 -i 0.3 -W 2 -I 198.51.100.2 203.0.113.2
  sw initiator --terminate --ike lab --timeout 10 || true
  sw initiator --terminate --ike lab2 --timeout 10 || true
}
