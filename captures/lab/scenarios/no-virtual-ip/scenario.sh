# The initiator asks for a virtual IP (CP(CFG_REQUEST), vips = 0.0.0.0); the responder has no
# address pool for it. No CHILD_SA, no ping.
run_actions() {
  if sw initiator --initiate --child net --timeout 10; then
    echo "no-virtual-ip: initiate unexpectedly succeeded" >&2
    return 1
  fi
  sleep 1
  sw initiator --terminate --ike lab --timeout 5 || true
  sleep 0.5
}
