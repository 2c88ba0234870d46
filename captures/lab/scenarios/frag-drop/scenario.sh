# A path that drops IP fragments: a router namespace between the peers whose nftables
# prerouting hook (ahead of any defragmentation) drops every IPv4 fragment. The certificates
# (RSA-4096 root, intermediate and end entity, sent with send_cert = always) make the
# IKE_AUTH request about 3.5 kB; with IKEv2 fragmentation off it leaves the initiator as IP
# fragments, the router drops them, the responder never sees it, and the initiator
# retransmits and gives up. capture.pcap is taken on the router's initiator-side interface
# (ingress, before the drop), filtered to keep the fragments too.
TOPOLOGY=router
CAP_NS=$NS_N
CAP_IF=veth-ni
CAP_FILTER='udp port 500 or udp port 4500 or esp or (ip[6:2] & 0x3fff != 0)'
CHARON_EXTRA="retransmit_tries = 3
  retransmit_timeout = 1.0
  retransmit_base = 1.5"

pre_start() {
  ip netns exec "$NS_N" nft -f - <<'NFT'
table ip ikvlab_frag {
  chain prerouting {
    type filter hook prerouting priority -500; policy accept;
    ip frag-off & 0x3fff != 0 counter drop
  }
}
NFT
  local d="$WORK/pki"
  mkdir -p "$d" "$OUT/certs"
  # pki (with the default plugin set) complains that the tpm plugin is unusable: harmless.
  pki --gen --type rsa --size 4096 --outform pem >"$d/root.key"
  pki --self --ca --lifetime 3650 --in "$d/root.key" --type rsa \
    --dn "C=XX, O=ikeview lab, CN=ikeview lab root CA" --outform pem >"$d/root.crt"
  pki --gen --type rsa --size 4096 --outform pem >"$d/inter.key"
  pki --pub --in "$d/inter.key" --type rsa |
    pki --issue --ca --lifetime 3650 --cacert "$d/root.crt" --cakey "$d/root.key" \
      --dn "C=XX, O=ikeview lab, CN=ikeview lab intermediate CA" --outform pem >"$d/inter.crt"
  local node
  for node in initiator responder; do
    pki --gen --type rsa --size 4096 --outform pem >"$d/$node.key"
    pki --pub --in "$d/$node.key" --type rsa |
      pki --issue --lifetime 1825 --cacert "$d/inter.crt" --cakey "$d/inter.key" \
        --dn "C=XX, O=ikeview lab, CN=$node.lab.example" --san "$node.lab.example" \
        --outform pem >"$d/$node.crt"
    cp "$d/root.crt" "$d/inter.crt" "$WORK/$node/swanctl/x509ca/"
    cp "$d/$node.crt" "$WORK/$node/swanctl/x509/"
    cp "$d/$node.key" "$WORK/$node/swanctl/rsa/"
    cp "$d/$node.crt" "$OUT/certs/"
  done
  # Public certificates only are kept beside the capture; the private keys are thrown away.
  cp "$d/root.crt" "$d/inter.crt" "$OUT/certs/"
}

run_actions() {
  if sw initiator --initiate --child net --timeout 30; then
    echo "frag-drop: IKE_AUTH unexpectedly got through" >&2
    return 1
  fi
  ip netns exec "$NS_N" nft list ruleset
  sleep 0.5
}
