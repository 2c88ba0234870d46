# As reauth, but make-before-break (charon.make_before_break = yes, the default from
# strongSwan 6.0): at reauth_time = 4s the initiator first sets up the new IKE SA with
# IKE_SA_INIT and IKE_AUTH (new SPIs, a new CHILD_SA for the same selectors), then deletes the
# old IKE SA, so there is no moment without an SA. Pings before and after.
TRIM_LOGS=1  # the logs keep what the lab uses (trim_log.py)
CHARON_EXTRA="make_before_break = yes"
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.3
  ping_tunnel 2
  sleep 4.5
  ping_tunnel 2
  sw initiator --list-sas
  sw initiator --terminate --ike lab --timeout 10 || true
}
