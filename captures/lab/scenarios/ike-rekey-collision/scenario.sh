# An IKE SA rekey collision (RFC 7296 2.8.2): both peers have IKE rekey_time = 6s and
# rand_time = 0, so both start a CREATE_CHILD_SA rekey of the same IKE SA at once; charon's
# test option send_delay holds CREATE_CHILD_SA requests for 300 ms on both peers so that they
# cross (the link's RTT is sub-millisecond). The peer with the lowest nonce loses and deletes
# its redundant new IKE SA; the winner's new IKE SA takes over the CHILD_SA and the old IKE SA
# is deleted.
CHARON_EXTRA="send_delay = 300
  send_delay_type = 36
  send_delay_request = yes
  send_delay_response = no"
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 2
  # The rekeys start 6 s after the IKE SA was established.
  sleep 7
  ping_tunnel 2
  sw initiator --list-sas
  sw responder --list-sas
  sw initiator --terminate --ike lab --timeout 10 || true
}
