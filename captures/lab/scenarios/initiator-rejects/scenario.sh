# The initiator holds a wrong copy of the PSK that authenticates the responder: the responder
# accepts the initiator and answers IKE_AUTH with AUTH, SA and TS; the initiator cannot verify
# that AUTH and sends N(AUTHENTICATION_FAILED) in an INFORMATIONAL. No ping.
run_actions() {
  if sw initiator --initiate --child net --timeout 10; then
    echo "initiator-rejects: initiate unexpectedly succeeded" >&2
    return 1
  fi
  sleep 1
}
