# A CHILD_SA rekey collision (RFC 7296 2.8.1): both peers have the same CHILD_SA rekey_time
# (6 s) and rand_time = 0, so both start a CREATE_CHILD_SA rekey of the same SA at once. To be
# sure each sends its request before the other's arrives (the link has sub-millisecond RTT,
# and the two rekey timers fire a few ms apart), charon's test option send_delay holds every
# CREATE_CHILD_SA request (send_delay_type = 36) for 300 ms on both peers; responses go out
# at once. The peer whose nonce is the lowest loses (its redundant SA is deleted).
CHARON_EXTRA="send_delay = 300
  send_delay_type = 36
  send_delay_request = yes
  send_delay_response = no"
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 2
  # The rekeys start 6 s after the CHILD_SA was installed.
  sleep 7
  ping_tunnel 2
  sw initiator --list-sas
  sw responder --list-sas
  sw initiator --terminate --ike lab --timeout 10 || true
}
