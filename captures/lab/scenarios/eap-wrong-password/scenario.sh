# As eap-cert (gateway with an ECDSA P-256 certificate, client with EAP-MSCHAPv2 as carol),
# but the client holds an old password: the gateway's check fails ("EAP-MS-CHAPv2
# verification failed, retry (1)"), it holds its answer back about 2 s (the client
# retransmits IKE_AUTH request 3 once) and sends an MSCHAPv2 Failure request; the client
# ("EAP-MS-CHAPv2 failed with error ERROR_AUTHENTICATION_FAILURE", "EAP_MSCHAPV2 method
# failed") gives up and sends an INFORMATIONAL with N(AUTHENTICATION_FAILED). keys.toml holds
# the password the client used (what its user has), not the gateway's.
TRIM_LOGS=1  # the logs keep what the lab uses (trim_log.py)
PLUGINS="$DEFAULT_PLUGINS md5 eap-identity eap-mschapv2"
CHARON_EXTRA="plugins {
    openssl {
      load_legacy = yes
    }
  }"
run_actions() {
  if sw initiator --initiate --child net --timeout 10; then
    echo "eap-wrong-password: IKE_SA unexpectedly established" >&2
    return 1
  fi
  sleep 0.5
}
pre_start() {
  gateway_ecdsa_pki initiator responder
}
