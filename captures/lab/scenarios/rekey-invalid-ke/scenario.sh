# A CHILD_SA rekey whose KE group the responder does not take: the initiator's esp_proposals
# offer MODP-2048 and ECP-256 for PFS (its KE payload is for MODP-2048, the first), the
# responder's only ECP-256. IKE_AUTH carries no KE, so the first CHILD_SA is made without a
# group. At rekey_time = 3s the initiator sends CREATE_CHILD_SA with N(REKEY_SA) and a
# MODP-2048 KE; the responder answers N(INVALID_KE_PAYLOAD) asking for group 19 (ECP-256); the
# initiator sends the request again with an ECP-256 KE (a new message ID), which is accepted:
# the new CHILD_SA replaces the old one (Delete), pings go on on the new SPIs, then delete.
TRIM_LOGS=1  # the logs keep what the lab uses (trim_log.py)
run_actions() {
  sw initiator --initiate --child net --timeout 20
  local i
  for i in $(seq 6); do
    ip netns exec "$NS_I" ping -c 1 -W 1 -I 198.51.100.1 203.0.113.1
    sleep 0.8
  done
  sw initiator --list-sas
  sw initiator --terminate --ike lab --timeout 10 || true
}
