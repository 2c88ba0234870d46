# Three CHILD_SAs on one IKE SA (IKE AES-CBC-256 / HMAC-SHA2-256-128 / PRF-HMAC-SHA2-256 /
# MODP-2048): "net" from IKE_AUTH (ESP AES-CBC-256 / HMAC-SHA2-256-128),
# "second" by CREATE_CHILD_SA with its own PFS group (KE ECP-256; ESP AES-GCM-16-256 /
# ECP_256), "third" by CREATE_CHILD_SA without KE (AES-CBC-128 / HMAC-SHA1-96).
# (Extended sequence numbers were the first plan: kernel-libipsec 5.9.8 refuses them, logging
# "IPsec SA: ESN not supported", and the responder answers NO_PROPOSAL_CHOSEN.)
# Pings through each; the responder then deletes
# "second" alone (INFORMATIONAL with a Delete for one ESP SA), pings on the other two, delete.
TRIM_LOGS=1  # the logs keep what the lab uses (trim_log.py)
pre_start() {
  local n
  for n in 2 3; do
    ip -n "$NS_I" addr add 198.51.100.$n/32 dev lo
    ip -n "$NS_R" addr add 203.0.113.$n/32 dev lo
  done
}
ping_pair() {
  ip netns exec "$NS_I" ping -c "$2" -i 0.3 -W 2 -I 198.51.100.$1 203.0.113.$1
}
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.3
  ping_pair 1 2
  sw initiator --initiate --child second --timeout 20
  sleep 0.3
  ping_pair 2 2
  sw initiator --initiate --child third --timeout 20
  sleep 0.3
  ping_pair 3 2
  sw responder --terminate --child second --timeout 10
  sleep 0.3
  ping_pair 1 1
  ping_pair 3 1
  sw initiator --list-sas
  sw initiator --terminate --ike lab --timeout 10 || true
}
