#!/bin/bash
# Rebuild the strongSwan lab captures in captures/lab/<scenario>/.
#
# Run as root on a Debian 12 machine (strongSwan 5.9.8):
#     sudo captures/lab/make.sh              # every scenario, in order
#     sudo captures/lab/make.sh natt rekey-dpd   # just these
# Set SKIP_APT=1 to skip the package install below, LAB_OUT=DIR to write the scenario
# folders under DIR instead of over the committed ones (every run makes new keys and SPIs,
# and tests elsewhere in the repo pin values from the committed captures).
#
# Hooks for tests that watch a negotiation (unset: nothing changes):
#   LAB_NS_PREFIX=P       namespaces P-i, P-r, P-nat instead of ikvlab-* (parallel runs)
#   LAB_CAPTURE_CMD=CMD   a shell command run with `sh -c` in the capture namespace next to
#                         tcpdump, e.g. 'exec ikeview live -i "$CAP_IF" --write "$SCEN_OUT/l.pcap"'
#                         ($CAP_IF: the captured interface, $SCEN_OUT: the scenario's output
#                         folder). Started before the charons, stopped with SIGTERM when tcpdump
#                         is stopped (use exec so the signal reaches it); stdout and stderr go to
#                         $SCEN_OUT/capture-cmd.out and capture-cmd.err.
#   LAB_CAPTURE_READY=TEXT  wait (up to 30 s) until capture-cmd.err contains TEXT before the
#                         charons start, e.g. "listening on".
#
# Packages it installs with apt-get (nothing else is downloaded):
#   strongswan-charon strongswan-swanctl strongswan-pki libcharon-extra-plugins
#   (kernel-libipsec) libstrongswan-extra-plugins (chapoly, curve25519)
#   libstrongswan-standard-plugins tcpdump iproute2 iputils-ping nftables python3
# and, for libreswan-initiator only (scenarios/libreswan-initiator/scenario.sh):
#   `apt-get download libreswan` unpacked with dpkg -x into LSW_ROOT (the package conflicts
#   with strongSwan's), plus libnss3-tools libevent-pthreads-2.1-7 libldns3.
#
# Per scenario it makes two network namespaces joined by a veth pair (a third one doing
# nftables masquerade for "natt"), starts one charon per namespace with its own
# strongswan.conf, private /run (the pid file path is compiled in) and vici socket, loads
# captures/lab/scenarios/<name>/{initiator,responder}/swanctl.conf, captures the veth with
# tcpdump, runs the scenario's actions (default: initiate, ping, terminate) and tears down.
# Then it derives capture-esp-raw.pcap, truth.json and keys.toml with the Python scripts
# beside this file. A trap removes namespaces and processes even when a step fails.
set -euo pipefail

LAB="$(cd "$(dirname "$0")" && pwd)"
SCEN_DIR="$LAB/scenarios"
ALL_SCENARIOS=(
  psk-aes256-sha256-modp2048 gcm16-ecp256 chacha-x25519 3des-sha1-modp1024
  multi-proposal asym-psk rekey-dpd invalid-ke no-proposal auth-failed natt certs-frag
  libreswan-initiator ts-unacceptable unreachable-responder frag-drop
  esp-one-way dpd-timeout rekey-collision eap-md5 eap-mschapv2 pfs-create-child mobike
  ike-rekey-collision auth-failed-initiator cookie redirect childless esp-corrupt
  half-open auth-retransmit no-virtual-ip esp-loss-replay
  ipv6-outer multi-child reauth rekey-pfs-mismatch id-mismatch certs-dn-email eap-cert
  eap-wrong-password cert-untrusted child-delete-lost rekey-invalid-ke reauth-mbb multi-auth
)
CHARON=/usr/lib/ipsec/charon
# Namespace names carry a prefix so they cannot clash with anything else on the host.
NS_I=${LAB_NS_PREFIX:-ikvlab}-i
NS_R=${LAB_NS_PREFIX:-ikvlab}-r
NS_N=${LAB_NS_PREFIX:-ikvlab}-nat

if [[ $EUID -ne 0 ]]; then
  echo "make.sh: must run as root (network namespaces)" >&2
  exit 1
fi

if [[ -z "${SKIP_APT:-}" ]]; then
  export DEBIAN_FRONTEND=noninteractive
  need=()
  for p in strongswan-charon strongswan-swanctl strongswan-pki libcharon-extra-plugins \
    libstrongswan-extra-plugins libstrongswan-standard-plugins tcpdump iproute2 \
    iputils-ping nftables python3; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if ((${#need[@]})); then
    apt-get update
    apt-get install -y --no-install-recommends "${need[@]}"
  fi
fi

WORK=""
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]:-}"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]:-}"; do
    [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true
  done
  PIDS=()
  ip netns del "$NS_I" 2>/dev/null || true
  ip netns del "$NS_R" 2>/dev/null || true
  ip netns del "$NS_N" 2>/dev/null || true
  [[ -n "$WORK" && -d "$WORK" ]] && rm -rf "$WORK"
  WORK=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- topology ------------------------------------------------------------------------------
# Direct: ikvlab-i 192.0.2.1 <-veth-> 192.0.2.2 ikvlab-r
# NAT:    ikvlab-i 192.0.2.10 <-> 192.0.2.1 ikvlab-nat 192.0.2.129 <-> 192.0.2.130 ikvlab-r
# Inner (tunnel) addresses on lo: 198.51.100.1 (initiator side), 203.0.113.1 (responder side).
I_ADDR=192.0.2.1
R_ADDR=192.0.2.2
CAP_NS=$NS_R
CAP_IF=veth-r

ns_base() {
  local ns=$1
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
}

topology_direct() {
  I_ADDR=192.0.2.1
  R_ADDR=192.0.2.2
  ns_base "$NS_I"
  ns_base "$NS_R"
  ip link add veth-i netns "$NS_I" type veth peer name veth-r netns "$NS_R"
  ip -n "$NS_I" addr add 192.0.2.1/24 dev veth-i
  ip -n "$NS_R" addr add 192.0.2.2/24 dev veth-r
  ip -n "$NS_I" link set veth-i up
  ip -n "$NS_R" link set veth-r up
  ip -n "$NS_I" addr add 198.51.100.1/32 dev lo
  ip -n "$NS_R" addr add 203.0.113.1/32 dev lo
}

topology_nat() {
  I_ADDR=192.0.2.10
  R_ADDR=192.0.2.130
  ns_base "$NS_I"
  ns_base "$NS_R"
  ns_base "$NS_N"
  ip link add veth-i netns "$NS_I" type veth peer name veth-ni netns "$NS_N"
  ip link add veth-r netns "$NS_R" type veth peer name veth-nr netns "$NS_N"
  ip -n "$NS_I" addr add 192.0.2.10/25 dev veth-i
  ip -n "$NS_N" addr add 192.0.2.1/25 dev veth-ni
  ip -n "$NS_N" addr add 192.0.2.129/25 dev veth-nr
  ip -n "$NS_R" addr add 192.0.2.130/25 dev veth-r
  for l in "$NS_I veth-i" "$NS_N veth-ni" "$NS_N veth-nr" "$NS_R veth-r"; do
    set -- $l
    ip -n "$1" link set "$2" up
  done
  ip -n "$NS_I" route add default via 192.0.2.1
  # The responder has no route back to the inside: only the masqueraded address is reachable.
  ip netns exec "$NS_N" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$NS_N" nft -f - <<'EOF'
table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "veth-nr" masquerade
  }
}
EOF
  ip -n "$NS_I" addr add 198.51.100.1/32 dev lo
  ip -n "$NS_R" addr add 203.0.113.1/32 dev lo
}

# Direct over IPv6: ikvlab-i 2001:db8::1 <-veth-> 2001:db8::2 ikvlab-r (outer addresses only;
# the inner addresses stay IPv4). nodad: the addresses are usable at once.
topology_direct6() {
  I_ADDR=2001:db8::1
  R_ADDR=2001:db8::2
  ns_base "$NS_I"
  ns_base "$NS_R"
  local ns
  for ns in "$NS_I" "$NS_R"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=0
  done
  ip link add veth-i netns "$NS_I" type veth peer name veth-r netns "$NS_R"
  ip -n "$NS_I" link set veth-i up
  ip -n "$NS_R" link set veth-r up
  ip -n "$NS_I" addr add 2001:db8::1/64 dev veth-i nodad
  ip -n "$NS_R" addr add 2001:db8::2/64 dev veth-r nodad
  ip -n "$NS_I" addr add 198.51.100.1/32 dev lo
  ip -n "$NS_R" addr add 203.0.113.1/32 dev lo
}

# Router: the NAT topology's addresses with plain forwarding, no address translation
# (a middle box whose nftables rules a scenario sets, e.g. dropping IP fragments).
topology_router() {
  topology_nat
  ip netns exec "$NS_N" nft flush ruleset
  ip -n "$NS_R" route add 192.0.2.0/25 via 192.0.2.129
}

# --- charon --------------------------------------------------------------------------------
DEFAULT_PLUGINS="random nonce aes sha1 sha2 hmac kdf gcm chapoly curve25519 pem pkcs1 pkcs8 x509 \
pubkey constraints revocation gmp openssl kernel-libipsec kernel-netlink socket-default vici"

# write_conf NODE: strongswan.conf for one node (initiator|responder) in $WORK/NODE/.
write_conf() {
  local node=$1 dir="$WORK/$1"
  mkdir -p "$dir"
  cat >"$dir/strongswan.conf" <<EOF
charon {
  load_modular = no
  load = ${PLUGINS:-$DEFAULT_PLUGINS}
  # libipsec in 5.9.8 only does ESP-in-UDP; routes go to ipsec0 in table 220.
  install_routes = yes
  retransmit_tries = 2
  retransmit_timeout = 1.0
  ${CHARON_EXTRA:-}
  plugins {
    vici {
      socket = unix://$dir/charon.vici
    }
  }
  filelog {
    $node {
      path = $OUT/$node.log
      append = no
      time_format = %H:%M:%S
      ike_name = yes
      flush_line = yes
      default = 2
      ike = 4
      enc = 4
      chd = 4
    }
  }
  syslog {
    daemon {
      default = -1
    }
  }
}
swanctl {
  socket = unix://$dir/charon.vici
}
EOF
}

start_charon() {
  local node=$1 ns=$2 dir="$WORK/$1"
  ip netns exec "$ns" sh -c "mount -t tmpfs ikvlab-$node /run && \
    exec env STRONGSWAN_CONF=$dir/strongswan.conf $CHARON" >"$dir/charon.out" 2>&1 &
  PIDS+=($!)
  local i
  for i in $(seq 50); do
    [[ -S "$dir/charon.vici" ]] && return 0
    sleep 0.1
  done
  echo "charon $node did not come up" >&2
  cat "$dir/charon.out" >&2
  return 1
}

# sw NODE ARGS...: swanctl against one node's vici socket.
sw() {
  local node=$1
  shift
  STRONGSWAN_CONF="$WORK/$node/strongswan.conf" swanctl "$@"
}

load_node() {
  local node=$1
  sw "$node" --load-all --noprompt --file "$WORK/$node/swanctl/swanctl.conf"
}

# gateway_ecdsa_pki NODE...: an RSA root CA and a gateway (responder) ECDSA P-256 certificate
# for gw.lab.example, installed on the responder; the root CA goes into each NODE's x509ca/.
# Public certificates only are kept beside the capture; the private keys are thrown away.
gateway_ecdsa_pki() {
  local d="$WORK/pki" node
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
  for node in "$@"; do
    cp "$d/root.crt" "$WORK/$node/swanctl/x509ca/"
  done
  cp "$d/root.crt" "$d/responder.crt" "$OUT/certs/"
}

# ping_tunnel [COUNT]: traffic from the initiator's inner address to the responder's.
ping_tunnel() {
  ip netns exec "$NS_I" ping -c "${1:-3}" -i 0.3 -W 2 -I 198.51.100.1 203.0.113.1
}

run_scenario() {
  local name=$1 sdir="$SCEN_DIR/$1"
  [[ -d "$sdir" ]] || {
    echo "no scenario $name" >&2
    return 1
  }
  echo "=== $name"
  WORK="$(mktemp -d /tmp/ikvlab.XXXXXX)"
  chmod 755 "$WORK"
  OUT_GROUP=""
  TOPOLOGY=direct
  # Where tcpdump listens and what it keeps; a scenario.sh may change them.
  CAP_NS=$NS_R
  CAP_IF=veth-r
  CAP_FILTER='udp port 500 or udp port 4500 or esp'

  PLUGINS=""
  CHARON_EXTRA=""
  TRIM_LOGS=""
  unset -f run_actions pre_start start_extra 2>/dev/null || true
  eval "$(declare -f default_run_actions | sed 's/^default_run_actions/run_actions/')"
  INITIATOR_IMPL=strongswan
  pre_start() { :; }
  start_extra() { :; }
  # shellcheck disable=SC1091
  [[ -f "$sdir/scenario.sh" ]] && source "$sdir/scenario.sh"
  # OUT_GROUP (set by scenario.sh) puts a scenario one level down, e.g. interop/<name>.
  OUT="${LAB_OUT:-$LAB}/${OUT_GROUP:+$OUT_GROUP/}$name"
  mkdir -p "$OUT"
  rm -f "$OUT"/capture.pcap "$OUT"/capture-esp-raw.pcap "$OUT"/*.log

  "topology_$TOPOLOGY"
  for node in initiator responder; do
    write_conf "$node"
    mkdir -p "$WORK/$node/swanctl"/{x509,x509ca,x509ocsp,x509aa,x509ac,x509crl,pubkey,private,rsa,ecdsa,bliss,pkcs8,pkcs12}
    [[ -d "$sdir/$node" ]] && cp -r "$sdir/$node/." "$WORK/$node/swanctl/"
    [[ -f "$WORK/$node/swanctl/swanctl.conf" ]] || continue
    # swanctl.conf uses @I_ADDR@/@R_ADDR@ so one file serves both topologies.
    sed -i "s/@I_ADDR@/$I_ADDR/g; s/@R_ADDR@/$R_ADDR/g" "$WORK/$node/swanctl/swanctl.conf"
  done
  pre_start

  ip netns exec "$CAP_NS" tcpdump -i "$CAP_IF" --immediate-mode -U -s 0 -w "$OUT/capture.pcap" \
    "$CAP_FILTER" >"$WORK/tcpdump.out" 2>&1 &
  local tcpdump_pid=$!
  PIDS+=($tcpdump_pid)
  local extra_pid=""
  if [[ -n "${LAB_CAPTURE_CMD:-}" ]]; then
    rm -f "$OUT/capture-cmd.out" "$OUT/capture-cmd.err"
    ip netns exec "$CAP_NS" env CAP_IF="$CAP_IF" SCEN_OUT="$OUT" sh -c "$LAB_CAPTURE_CMD" \
      >"$OUT/capture-cmd.out" 2>"$OUT/capture-cmd.err" &
    extra_pid=$!
    PIDS+=($extra_pid)
    if [[ -n "${LAB_CAPTURE_READY:-}" ]]; then
      local w
      for w in $(seq 300); do
        grep -qF -- "$LAB_CAPTURE_READY" "$OUT/capture-cmd.err" 2>/dev/null && break
        if ! kill -0 "$extra_pid" 2>/dev/null; then
          echo "LAB_CAPTURE_CMD exited early:" >&2
          cat "$OUT/capture-cmd.err" >&2
          return 1
        fi
        sleep 0.1
      done
      grep -qF -- "$LAB_CAPTURE_READY" "$OUT/capture-cmd.err" || {
        echo "LAB_CAPTURE_CMD never printed: $LAB_CAPTURE_READY" >&2
        return 1
      }
    fi
  fi
  start_charon responder "$NS_R"
  if [[ $INITIATOR_IMPL == strongswan ]]; then
    start_charon initiator "$NS_I"
  fi
  start_extra
  sleep 1
  load_node responder
  if [[ $INITIATOR_IMPL == strongswan ]]; then
    load_node initiator
  fi

  # A subshell so that errexit applies inside the actions and a failure still tears down.
  local rc=0
  set +e
  (
    set -e
    run_actions
  )
  rc=$?
  set -e
  sleep 1
  kill -INT "$tcpdump_pid" 2>/dev/null || true
  wait "$tcpdump_pid" 2>/dev/null || true
  if [[ -n "$extra_pid" ]]; then
    kill -TERM "$extra_pid" 2>/dev/null || true
    wait "$extra_pid" 2>/dev/null || true
  fi
  cleanup
  trap cleanup EXIT
  if ((rc != 0)); then
    echo "scenario $name: actions failed (rc=$rc)" >&2
    return "$rc"
  fi

  # tcpdump drops privileges to its own user; hand the file back.
  chown "$(stat -c %u:%g "$LAB")" "$OUT/capture.pcap"
  python3 "$LAB/strip_esp_in_udp.py" "$OUT/capture.pcap" "$OUT/capture-esp-raw.pcap"
  if [[ -n "${TRIM_LOGS:-}" ]]; then
    # ENC level-4 field dumps the lab does not use (trim_log.py says what stays).
    python3 "$LAB/trim_log.py" "$OUT/initiator.log"
    python3 "$LAB/trim_log.py" "$OUT/responder.log"
  fi
  python3 "$LAB/extract_truth.py" "$OUT"
  echo "=== $name done"
}

# Default actions; a scenario.sh may define run_actions (and set TOPOLOGY, PLUGINS, ...).
default_run_actions() {
  sw initiator --initiate --child net --timeout 20
  sleep 0.5
  ping_tunnel 3
  sw initiator --terminate --ike lab --timeout 10 || true
}

if (($#)); then
  scenarios=("$@")
else
  scenarios=("${ALL_SCENARIOS[@]}")
fi
start=$SECONDS
for s in "${scenarios[@]}"; do
  run_scenario "$s"
done
echo "all done in $((SECONDS - start)) s"
