# Libreswan 4.10 (pluto) as initiator, strongSwan as responder. Debian's libreswan package
# conflicts with strongSwan's, so it is unpacked (apt-get download + dpkg -x) into
# LSW_ROOT; pluto always execs the compiled-in /usr/libexec/ipsec/addconn, so inside its
# namespace a tmpfs on /usr/libexec gets the unpacked ipsec folder bind-mounted.
# pluto cannot install ESP SAs here (no kernel ESP), but IKE_SA_INIT and IKE_AUTH complete on
# the wire; the strongSwan responder's log holds every key (pluto never logs g^ir).
# plutodebug="crypt private" makes pluto log its SK_ai/SK_ei/SK_ar/SK_er ("ikev2 I|R" lines),
# which tests/test_lab_captures.py compares with truth.json (two implementations agree).
INITIATOR_IMPL=libreswan
# Kept in captures/lab/interop/: not every consumer of captures/lab/*/ expects a log per peer.
OUT_GROUP=interop
LSW_ROOT=${LSW_ROOT:-/var/cache/ikvlab-libreswan}

pre_start() {
  if [[ ! -x "$LSW_ROOT/usr/libexec/ipsec/pluto" ]]; then
    (cd "$WORK" && apt-get download libreswan)
    mkdir -p "$LSW_ROOT"
    dpkg -x "$WORK"/libreswan_*.deb "$LSW_ROOT"
  fi
  local p
  for p in libnss3-tools libevent-pthreads-2.1-7 libldns3; do
    dpkg -s "$p" >/dev/null 2>&1 || apt-get install -y --no-install-recommends "$p"
  done
  local d="$WORK/pluto"
  mkdir -p "$d/nss" "$d/run" "$d/dump"
  certutil -N -d "sql:$d/nss" --empty-password
  cp "$SCEN_DIR/libreswan-initiator/initiator-libreswan/"ipsec.* "$d/"
  sed -i "s/@I_ADDR@/$I_ADDR/g; s/@R_ADDR@/$R_ADDR/g" "$d/ipsec.conf"
}

start_extra() {
  local d="$WORK/pluto" ipsec="$LSW_ROOT/usr/libexec/ipsec"
  ip netns exec "$NS_I" sh -c "mount -t tmpfs ikvlab-libexec /usr/libexec && \
    mkdir /usr/libexec/ipsec && mount --bind $ipsec /usr/libexec/ipsec && \
    exec $ipsec/pluto --config $d/ipsec.conf --nofork --logfile $d/pluto.log \
      --rundir $d/run --nssdir $d/nss --secretsfile $d/ipsec.secrets --ipsecdir $d \
      --dumpdir $d/dump --no-dnssec --log-no-audit" >"$d/pluto.out" 2>&1 &
  PIDS+=($!)
  local i
  for i in $(seq 50); do
    [[ -S "$d/run/pluto.ctl" ]] && return 0
    sleep 0.1
  done
  echo "pluto did not come up" >&2
  cat "$d/pluto.out" >&2
  return 1
}

whack() {
  "$LSW_ROOT/usr/libexec/ipsec/whack" --rundir "$WORK/pluto/run" "$@"
}

run_actions() {
  whack --impair revival
  whack --name lab --initiate --asynchronous
  sleep 3
  whack --showstates || true
  whack --name lab --terminate || true
  sleep 1
  # Keep the log from the connection being loaded on: the ~6000 lines before are pluto's
  # start-up algorithm self-tests (the full log is about 0.4 MB).
  awk 'found || /"lab"/ { found = 1; print }' "$WORK/pluto/pluto.log" >"$OUT/initiator-pluto.log"
}
