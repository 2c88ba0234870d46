# Authentication rejected by the initiator: the responder accepts the initiator's AUTH and
# answers IKE_AUTH with its own AUTH, SA and TS (the CHILD_SA is installed on the responder),
# but the initiator holds a wrong copy of the PSK the responder's AUTH is computed with, so it
# rejects the response and sends N(AUTHENTICATION_FAILED) in an INFORMATIONAL (RFC 7296 2.21.2).
run_actions() {
  if sw initiator --initiate --child net --timeout 10; then
    echo "auth-failed-initiator: initiate unexpectedly succeeded" >&2
    return 1
  fi
  sleep 1
  sw responder --list-sas || true
}
