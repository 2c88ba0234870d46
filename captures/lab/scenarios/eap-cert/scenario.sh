# The usual road-warrior set-up: the gateway (responder) authenticates with an ECDSA P-256
# certificate (ID gw.lab.example, ECDSA_WITH_SHA256_DER, issued by an RSA-3072 root the
# client holds; the client sends CERTREQ), the client (initiator, IDi carol@lab.example)
# with EAP-MSCHAPv2 as "carol" after an EAP-Identity round. The gateway's signature is in
# the first IKE_AUTH response (with its CERT); after EAP both final AUTHs are MACs keyed with
# the MSK (RFC 7296 2.16). Then pings and delete. MSCHAPv2 needs OpenSSL 3's legacy provider.
TRIM_LOGS=1  # the logs keep what the lab uses (trim_log.py)
PLUGINS="$DEFAULT_PLUGINS md5 eap-identity eap-mschapv2"
CHARON_EXTRA="plugins {
    openssl {
      load_legacy = yes
    }
  }"
pre_start() {
  gateway_ecdsa_pki initiator responder
}
