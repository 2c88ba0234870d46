# The initiator requests a virtual IP (configuration payload, RFC 7296 3.15) from a responder
# that has no address pool: the IKE_AUTH response carries N(INTERNAL_ADDRESS_FAILURE) and no
# CHILD_SA is made.
run_actions() {
  if sw initiator --initiate --child net --timeout 10; then
    echo "internal-address-failure: CHILD_SA unexpectedly established" >&2
    return 1
  fi
  sleep 1
  sw initiator --list-sas
  sw initiator --terminate --ike lab --timeout 5 || true
  sleep 0.5
}
