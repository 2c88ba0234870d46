# The responder's only child allows 198.51.100.99/32 on the initiator's side, the initiator
# proposes 198.51.100.1/32: IKE_AUTH authenticates both peers (the IKE SA is established) but
# no CHILD_SA is made, the response carries N(TS_UNACCEPTABLE). Then the initiator deletes the
# IKE SA.
run_actions() {
  if sw initiator --initiate --child net --timeout 10; then
    echo "ts-unacceptable: CHILD_SA unexpectedly established" >&2
    return 1
  fi
  sleep 1
  sw initiator --list-sas
  sw initiator --terminate --ike lab --timeout 5 || true
  sleep 0.5
}
