# One IKE SA, its first CHILD_SA "net" from IKE_AUTH (198.51.100.1 <-> 203.0.113.1), then a
# second CHILD_SA "second" (198.51.100.2 <-> 203.0.113.2) made with CREATE_CHILD_SA carrying
# a KE payload (PFS, MODP-2048); pings through both. keys.toml gives that exchange's g^ir as a
# plain [[dh]] shared_secret, without child = true or SPIs, as a user pastes it from charon's
# log (extract_truth.py UNSCOPED_CHILD_DH).
pre_start() {
  ip -n "$NS_I" addr add 198.51.100.2/32 dev lo
  ip -n "$NS_R" addr add 203.0.113.2/32 dev lo
}
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 2
  sw initiator --initiate --child second --timeout 20
  sleep 0.5
  ip netns exec "$NS_I" ping -c 2 -i 0.3 -W 2 -I 198.51.100.2 203.0.113.2
  ping_tunnel 1
  sw initiator --list-sas
  sw initiator --terminate --ike lab --timeout 10 || true
}
