# The initiator's PSK differs from the responder's: the responder answers IKE_AUTH with
# AUTHENTICATION_FAILED. No CHILD_SA, so no ping.
run_actions() {
  if sw initiator --initiate --child net --timeout 10; then
    echo "auth-failed: initiate unexpectedly succeeded" >&2
    return 1
  fi
  sleep 1
}
