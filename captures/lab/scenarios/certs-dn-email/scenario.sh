# Certificate authentication with identities other than FQDNs: the initiator is
# alice@lab.example (ID_RFC822_ADDR; RSA-2048 certificate with that rfc822 subjectAltName),
# the responder "C=XX, O=ikeview lab, CN=gw.lab.example" (ID_DER_ASN1_DN; ECDSA P-384
# certificate). Both certificates are issued by an ECDSA P-384 intermediate CA under an
# RSA-3072 root; each peer sends CERTREQ (the root's key hash) and its end-entity certificate
# (send_cert = always), not the intermediate: the peers hold the CA certificates. IKE
# AES-GCM-16-256 / PRF-HMAC-SHA2-384 / ECP-384, ESP AES-GCM-16-128. IKE fragmentation stays
# at charon's default (on, 1280 bytes). Public certificates in certs/.
TRIM_LOGS=1  # the logs keep what the lab uses (trim_log.py)
pre_start() {
  local d="$WORK/pki"
  mkdir -p "$d" "$OUT/certs"
  rm -f "$OUT"/certs/*
  pki --gen --type rsa --size 3072 --outform pem >"$d/root.key"
  pki --self --ca --lifetime 3650 --in "$d/root.key" --type rsa \
    --dn "C=XX, O=ikeview lab, CN=ikeview lab root CA" --outform pem >"$d/root.crt"
  pki --gen --type ecdsa --size 384 --outform pem >"$d/inter.key"
  pki --pub --in "$d/inter.key" --type ecdsa |
    pki --issue --ca --lifetime 3650 --cacert "$d/root.crt" --cakey "$d/root.key" \
      --dn "C=XX, O=ikeview lab, CN=ikeview lab ECDSA intermediate CA" --outform pem >"$d/inter.crt"
  pki --gen --type rsa --size 2048 --outform pem >"$d/initiator.key"
  pki --pub --in "$d/initiator.key" --type rsa |
    pki --issue --lifetime 1825 --cacert "$d/inter.crt" --cakey "$d/inter.key" \
      --dn "C=XX, O=ikeview lab, CN=alice" --san "alice@lab.example" \
      --outform pem >"$d/initiator.crt"
  cp "$d/initiator.key" "$WORK/initiator/swanctl/rsa/"
  pki --gen --type ecdsa --size 384 --outform pem >"$d/responder.key"
  pki --pub --in "$d/responder.key" --type ecdsa |
    pki --issue --lifetime 1825 --cacert "$d/inter.crt" --cakey "$d/inter.key" \
      --dn "C=XX, O=ikeview lab, CN=gw.lab.example" --san "gw.lab.example" \
      --outform pem >"$d/responder.crt"
  cp "$d/responder.key" "$WORK/responder/swanctl/ecdsa/"
  local node
  for node in initiator responder; do
    cp "$d/root.crt" "$d/inter.crt" "$WORK/$node/swanctl/x509ca/"
    cp "$d/$node.crt" "$WORK/$node/swanctl/x509/"
    cp "$d/$node.crt" "$OUT/certs/"
  done
  # Public certificates only are kept beside the capture; the private keys are thrown away.
  cp "$d/root.crt" "$d/inter.crt" "$OUT/certs/"
}
