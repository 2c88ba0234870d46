# Two failed negotiations in one capture: first a CHILD_SA proposal mismatch inside IKE_AUTH,
# then an IKE proposal mismatch in IKE_SA_INIT. Both initiations are expected to fail.
PLUGINS="random nonce aes sha1 sha2 md5 hmac kdf gcm pem pkcs1 pkcs8 x509 pubkey gmp openssl \
kernel-libipsec kernel-netlink socket-default vici"
run_actions() {
  if sw initiator --initiate --child net --timeout 10; then
    echo "no-proposal: CHILD_SA unexpectedly established" >&2
    return 1
  fi
  sleep 1
  sw initiator --terminate --ike lab --timeout 5 || true
  sleep 0.5
  if sw initiator --initiate --child badnet --timeout 10; then
    echo "no-proposal: IKE_SA unexpectedly established" >&2
    return 1
  fi
  sleep 1
}
