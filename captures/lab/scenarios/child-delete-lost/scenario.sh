# A child SA deleted by one side while the other keeps sending: after pings, the responder
# deletes the CHILD_SA (`swanctl --terminate --child net`), but its INFORMATIONAL with the
# Delete never reaches the initiator (the initiator's namespace drops IKE requests from the
# responder: UDP 4500, non-ESP marker, R flag clear, as in rekey-temporary-failure). charon
# 5.9.8 keeps the SA installed while its Delete is outstanding, so 2 pings sent meanwhile are
# still answered; it retransmits the Delete twice, gives up ("giving up after 2 retransmits")
# and destroys the IKE SA with its CHILD_SA. The initiator still has both and keeps sending
# ESP (4 echo requests) that nothing answers; then it deletes the IKE SA, unanswered.
TRIM_LOGS=1  # the logs keep what the lab uses (trim_log.py)
CHARON_EXTRA="retransmit_tries = 2
  retransmit_timeout = 1.0
  retransmit_base = 1.5"
run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.3
  ping_tunnel 2
  ip netns exec "$NS_I" nft -f - <<'NFT'
table inet l7lab_norequests {
  chain input {
    type filter hook input priority filter; policy accept;
    udp sport 4500 @th,64,32 == 0 @th,250,1 == 0 counter drop
  }
}
NFT
  sw responder --terminate --child net --timeout 1 || true
  sleep 0.2
  ping_tunnel 2
  sleep 5
  ping_tunnel 4 || true
  ip netns exec "$NS_I" nft list ruleset
  sw initiator --list-sas || true
  sw responder --list-sas || true
  ip netns exec "$NS_I" nft delete table inet l7lab_norequests
  sw initiator --terminate --ike lab --timeout 5 || true
}
