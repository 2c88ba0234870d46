# The responder's charon dies (SIGKILL) and restarts with no SAs while the initiator keeps its
# IKE SA; the initiator then rekeys its child SA: the responder has no such IKE SA.
CHARON_EXTRA="retransmit_tries = 2
  retransmit_timeout = 1.0
  retransmit_base = 1.5"
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 2
  kill -9 "${PIDS[1]}"
  sleep 0.5
  rm -f "$WORK/responder/charon.vici"
  start_charon responder "$NS_R"
  local restarted=${PIDS[-1]}
  sleep 0.5
  load_node responder
  sw initiator --rekey --child net || true
  sleep 6
  sw initiator --list-sas || true
  kill "$restarted" 2>/dev/null || true
  sleep 0.5
}
