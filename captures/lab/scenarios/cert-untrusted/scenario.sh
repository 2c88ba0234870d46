# As eap-cert, but the client does not hold the root CA that issued the gateway's ECDSA
# certificate (its x509ca/ is empty): the gateway's signature in the first IKE_AUTH response
# is valid, but the client finds "no trusted ECDSA public key found for 'gw.lab.example'" and
# sends an INFORMATIONAL with N(AUTHENTICATION_FAILED) instead of continuing with EAP.
TRIM_LOGS=1  # the logs keep what the lab uses (trim_log.py)
PLUGINS="$DEFAULT_PLUGINS md5 eap-identity eap-mschapv2"
CHARON_EXTRA="plugins {
    openssl {
      load_legacy = yes
    }
  }"
run_actions() {
  if sw initiator --initiate --child net --timeout 10; then
    echo "cert-untrusted: IKE_SA unexpectedly established" >&2
    return 1
  fi
  sleep 0.5
}
pre_start() {
  # not the initiator: it must not trust the gateway
  gateway_ecdsa_pki responder
}
