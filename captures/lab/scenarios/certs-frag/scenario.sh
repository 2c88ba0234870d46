# Certificate authentication (initiator RSA, responder ECDSA, one RSA CA) with IKE
# fragmentation forced and a small fragment size, so IKE_AUTH goes as several SKF payloads.
CHARON_EXTRA="fragment_size = 400"
pre_start() {
  local d="$WORK/pki"
  mkdir -p "$d" "$OUT/certs"
  # pki (with the default plugin set) complains that the tpm plugin is unusable: harmless.
  pki --gen --type rsa --size 3072 --outform pem >"$d/ca.key"
  pki --self --ca --lifetime 3650 --in "$d/ca.key" --type rsa \
    --dn "C=XX, O=ikeview lab, CN=ikeview lab CA" --outform pem >"$d/ca.crt"
  pki --gen --type rsa --size 3072 --outform pem >"$d/initiator.key"
  pki --gen --type ecdsa --size 256 --outform pem >"$d/responder.key"
  local node type
  for node in initiator responder; do
    [[ $node == initiator ]] && type=rsa || type=ecdsa
    pki --pub --in "$d/$node.key" --type $type |
      pki --issue --lifetime 1825 --cacert "$d/ca.crt" --cakey "$d/ca.key" \
        --dn "C=XX, O=ikeview lab, CN=$node.lab.example" --san "$node.lab.example" \
        --outform pem >"$d/$node.crt"
    cp "$d/ca.crt" "$WORK/$node/swanctl/x509ca/"
    cp "$d/$node.crt" "$WORK/$node/swanctl/x509/"
    cp "$d/$node.key" "$WORK/$node/swanctl/$type/"
    cp "$d/$node.crt" "$OUT/certs/"
  done
  # Public certificates only are kept beside the capture; the private keys are thrown away.
  cp "$d/ca.crt" "$OUT/certs/"
}
