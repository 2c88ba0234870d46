# IKE SA reauthentication (RFC 7296 2.8.3) rather than a rekey: the initiator has
# reauth_time = 4s (rand_time = 0). charon 5.9.8 reauthenticates break-before-make (the
# default make_before_break = no): it deletes the old IKE SA with its CHILD_SA (INFORMATIONAL
# with a Delete), then runs IKE_SA_INIT and IKE_AUTH again with new SPIs and nonces and a new
# CHILD_SA for the same selectors. Pings before and after; the initiator deletes the new SA.
TRIM_LOGS=1  # the logs keep what the lab uses (trim_log.py)
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.3
  ping_tunnel 2
  sleep 4.5
  ping_tunnel 2
  sw initiator --list-sas
  sw initiator --terminate --ike lab --timeout 10 || true
}
