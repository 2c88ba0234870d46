# CHILD_SA rekey with PFS (the ESP proposal carries MODP-2048), then an IKE_SA rekey, then
# idle time so that the initiator's DPD (dpd_delay = 2s) sends an empty INFORMATIONAL.
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 2
  sw initiator --rekey --child net
  sleep 1.5
  ping_tunnel 2
  sw initiator --rekey --ike lab
  sleep 1.5
  ping_tunnel 2
  # Idle: no traffic for longer than dpd_delay makes charon send a liveness check.
  sleep 5
  ping_tunnel 1
  sw initiator --list-sas
  sw initiator --terminate --ike lab --timeout 10 || true
}
