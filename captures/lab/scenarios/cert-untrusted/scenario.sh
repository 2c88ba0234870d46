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
  cp "$d/root.crt" "$WORK/responder/swanctl/x509ca/"
  # Public certificates only are kept beside the capture; the private keys are thrown away.
  cp "$d/root.crt" "$d/responder.crt" "$OUT/certs/"
}
