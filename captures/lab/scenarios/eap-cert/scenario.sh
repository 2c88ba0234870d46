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
  local d="$WORK/pki"
  mkdir -p "$d" "$OUT/certs"
  rm -f "$OUT"/certs/*
  pki --gen --type rsa --size 3072 --outform pem >"$d/root.key"
  pki --self --ca --lifetime 3650 --in "$d/root.key" --type rsa \
    --dn "C=XX, O=ikeview lab, CN=ikeview lab root CA" --outform pem >"$d/root.crt"
  pki --gen --type ecdsa --size 256 --outform pem >"$d/responder.key"
  pki --pub --in "$d/responder.key" --type ecdsa |
    pki --issue --lifetime 1825 --cacert "$d/root.crt" --cakey "$d/root.key" \
      --dn "C=XX, O=ikeview lab, CN=gw.lab.example" --san "gw.lab.example" \
      --flag serverAuth --outform pem >"$d/responder.crt"
  cp "$d/responder.key" "$WORK/responder/swanctl/ecdsa/"
  cp "$d/responder.crt" "$WORK/responder/swanctl/x509/"
  cp "$d/root.crt" "$WORK/initiator/swanctl/x509ca/"
  cp "$d/root.crt" "$WORK/responder/swanctl/x509ca/"
  # Public certificates only are kept beside the capture; the private keys are thrown away.
  cp "$d/root.crt" "$d/responder.crt" "$OUT/certs/"
}
