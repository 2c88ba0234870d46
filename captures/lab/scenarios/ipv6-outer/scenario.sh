# IPv6 outer addresses (2001:db8::1 <-> 2001:db8::2, inner IPv4 198.51.100.1 <-> 203.0.113.1):
# IKE_SA_INIT on UDP 500 over IPv6, then IKE and ESP-in-UDP on 4500 (encap = yes, as in every
# lab capture); IKE AES-GCM-16-128 / PRF-HMAC-SHA2-256 / ECP-256, ESP AES-CBC-128 /
# HMAC-SHA2-256-128; 4 pings, delete by the initiator.
TRIM_LOGS=1  # the logs keep what the lab uses (trim_log.py)
TOPOLOGY=direct6
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 4
  sw initiator --terminate --ike lab --timeout 10 || true
}
