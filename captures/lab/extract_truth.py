#!/usr/bin/env python3
"""Extract the ground truth of one lab scenario from charon's logs and the capture.

Usage: extract_truth.py SCENARIO_DIR        (e.g. captures/lab/rekey-dpd)

Reads SCENARIO_DIR/{initiator,responder}.log (charon filelog, ike/enc/chd at level 4) and
SCENARIO_DIR/capture.pcap, writes SCENARIO_DIR/truth.json and SCENARIO_DIR/keys.toml.

Every key value comes verbatim from the logs. The script recomputes nothing that it reports;
it only uses the RFC 7296 formulas (section 2.13 prf+, 2.14 SKEYSEED, 2.17 KEYMAT) with
HMAC from the standard library to decide WHICH logged derivation belongs to which IKE SA, which
nonces it used and which IKE SA an IKE rekey replaced, because the log context alone is
ambiguous (the responder derives IKE_SA_INIT keys lazily; on a rekey the derivation appears
under the old SA on one side and under the new SA on the other). Standard library only; this
is the reference the ikeview tests compare against, so it must not import ikeview.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

NODES = ("initiator", "responder")

# "03:28:57 04[IKE] <lab|1> text" ; the <name|id> part is missing outside an IKE SA context.
LINE_RE = re.compile(r"^(\d\d:\d\d:\d\d) (\d+)\[(\w+)\] (?:<(?:([^|>]*)\|)?(\d+)> )?(.*)$")
BLOB_RE = re.compile(r"^(.*?)\s*=> (\d+) bytes @ (?:0x[0-9a-f]+|\(nil\))$")
DUMP_RE = re.compile(r"^\s*(\d+): (.*)$")
CHECKIN_RE = re.compile(
    r"checkin IKEv2 SA (\S+)\[(\d+)\] with SPIs ([0-9a-f]{16})_i ([0-9a-f]{16})_r"
)
CHILD_RE = re.compile(
    r"(?:(inbound|outbound) )?CHILD_SA (\S+)\{(\d+)\} established with SPIs "
    r"([0-9a-f]{8})_i ([0-9a-f]{8})_o"
)
AUTH_RE = re.compile(r"authentication of '(.*?)' (\(myself\) )?with (.+?)( successful)?$")
NOTIFY_ERR_RE = re.compile(r"received (\w+) notify error")
NOTIFY_RE = re.compile(r"(?:received|peer didn't accept DH group (\S+), it requested) (\S+)")

IKE_LABELS = {
    "SKEYSEED": "skeyseed",
    "Sk_d secret": "sk_d",
    "Sk_ai secret": "sk_ai",
    "Sk_ar secret": "sk_ar",
    "Sk_ei secret": "sk_ei",
    "Sk_er secret": "sk_er",
    "Sk_pi secret": "sk_pi",
    "Sk_pr secret": "sk_pr",
}
CHILD_LABELS = {
    "encryption initiator key": "encr_i",
    "encryption responder key": "encr_r",
    "integrity initiator key": "integ_i",
    "integrity responder key": "integ_r",
}
# PRF by output length: HMAC with the hash of that size (the lab only uses HMAC PRFs).
PRF_BY_LEN = {20: hashlib.sha1, 32: hashlib.sha256, 48: hashlib.sha384, 64: hashlib.sha512}


@dataclass
class Event:
    """One log line (with its hex dump joined when it announces a blob)."""

    node: str
    lineno: int
    thread: str
    group: str
    ike_id: int | None
    text: str
    label: str | None = None
    blob: bytes | None = None


@dataclass
class IkeDerivation:
    """SKEYSEED and SK_* logged by one node after one 'shared Diffie Hellman secret'."""

    node: str
    lineno: int
    ike_id: int | None
    gir: bytes
    keys: dict[str, bytes] = field(default_factory=dict)


# ---------------------------------------------------------------------------------- logs


def parse_log(node: str, path: Path) -> list[Event]:
    """Events of one charon log; blob dumps are joined per thread (threads interleave)."""
    events: list[Event] = []
    pending: dict[str, tuple[Event, int, bytearray]] = {}
    for lineno, raw in enumerate(path.read_text(errors="replace").splitlines(), 1):
        m = LINE_RE.match(raw)
        if not m:
            continue
        _, thread, group, _name, ike_id, text = m.groups()
        if thread in pending:
            dm = DUMP_RE.match(text)
            ev, size, buf = pending[thread]
            if dm and int(dm.group(1)) == len(buf):
                # Hex column is 16 "XX " cells (47 chars); the ASCII column follows.
                buf += bytes.fromhex(dm.group(2)[:47].replace(" ", ""))
                if len(buf) >= size:
                    ev.blob = bytes(buf[:size])
                    del pending[thread]
                continue
            ev.blob = bytes(buf)
            del pending[thread]
        ev = Event(node, lineno, thread, group, int(ike_id) if ike_id else None, text)
        bm = BLOB_RE.match(text)
        if bm:
            ev.label = bm.group(1).strip()
            size = int(bm.group(2))
            if size:
                pending[thread] = (ev, size, bytearray())
            else:
                ev.blob = b""
        events.append(ev)
    for ev, _, buf in pending.values():
        ev.blob = bytes(buf)
    return events


def log_nonces(events: list[Event]) -> tuple[set[bytes], set[bytes]]:
    """Nonce payload data (generated, parsed) from the ENC level-4 payload dumps."""
    generated: set[bytes] = set()
    parsed: set[bytes] = set()
    waiting: dict[str, set[bytes]] = {}
    for ev in events:
        if ev.group != "ENC":
            continue
        if ev.text == "generating payload of type NONCE":
            waiting[ev.thread] = generated
        elif ev.text == "starting parsing a NONCE payload":
            waiting[ev.thread] = parsed
        elif ev.thread in waiting and ev.label == "" and ev.blob and len(ev.blob) >= 16:
            # The first bare field dump of at least 16 bytes is the nonce data (RFC 7296 3.9).
            waiting.pop(ev.thread).add(ev.blob)
    return generated, parsed


def eap_secrets(events: list[Event]) -> set[int]:
    """Line numbers of the 'secret' blobs that are EAP AUTH keys, not PSKs.

    After EAP (RFC 7296 2.16) both AUTH payloads are made like a PSK AUTH but with the MSK, or
    with SK_pi/SK_pr for a method without one (EAP-MD5), and charon logs that key as 'secret'
    too. Building our AUTH, 'authentication of ... (myself) with M' comes before the secret;
    verifying the peer's, '... with M successful' comes after it (same thread)."""
    out: set[int] = set()
    building: dict[str, str] = {}
    pending: dict[str, Event] = {}
    for ev in events:
        if ev.group != "IKE":
            continue
        if ev.label == "secret":
            if ev.thread in building:
                if building.pop(ev.thread) == "EAP":
                    out.add(ev.lineno)
            else:
                pending[ev.thread] = ev
            continue
        m = AUTH_RE.search(ev.text)
        if not m:
            continue
        if m.group(2) and not m.group(4):
            building[ev.thread] = m.group(3)
        elif m.group(4) and ev.thread in pending:
            secret = pending.pop(ev.thread)
            if m.group(3) == "EAP":
                out.add(secret.lineno)
    return out


EAP_DONE_RE = re.compile(r"EAP method (\S+) succeeded, (no MSK|MSK) established")
EAP_ID_RE = re.compile(r"(?:received EAP identity|EAP_IDENTITY \(id 0x\w+\), sending) '(.*)'")


def eap_info(events: list[Event], eap_lines: set[int]) -> dict[int, dict]:
    """Per IKE SA id of one node: the EAP identity, method and MSK (the EAP AUTH key when
    charon says an MSK was established; null for EAP-MD5, whose AUTH uses SK_p)."""
    out: dict[int, dict] = {}
    for ev in events:
        if ev.ike_id is None or ev.group != "IKE":
            continue
        m = EAP_ID_RE.search(ev.text)
        if m:
            out.setdefault(ev.ike_id, {})["identity"] = m.group(1)
        m = EAP_DONE_RE.search(ev.text)
        if m:
            info = out.setdefault(ev.ike_id, {})
            info["method"] = m.group(1)
            info["has_msk"] = m.group(2) == "MSK"
        if ev.label == "secret" and ev.lineno in eap_lines and ev.ike_id in out:
            info = out[ev.ike_id]
            if info.get("has_msk") and ev.blob:
                info["msk"] = ev.blob.hex()
    return out


def ike_derivations(events: list[Event]) -> list[IkeDerivation]:
    out: list[IkeDerivation] = []
    current: dict[str, IkeDerivation] = {}
    for ev in events:
        if ev.group != "IKE" or ev.blob is None:
            continue
        if ev.label == "shared Diffie Hellman secret":
            d = IkeDerivation(ev.node, ev.lineno, ev.ike_id, ev.blob)
            current[ev.thread] = d
            out.append(d)
        elif ev.label in IKE_LABELS and ev.thread in current:
            current[ev.thread].keys[IKE_LABELS[ev.label]] = ev.blob
    return [d for d in out if "skeyseed" in d.keys and "sk_d" in d.keys]


@dataclass
class ChildDerivation:
    """One CHILD_SA key derivation (CHD) and the SPIs it was installed with."""

    node: str
    lineno: int
    ike_id: int | None
    proposal: str | None
    dh: bytes | None
    seed: bytes = b""
    keys: dict[str, bytes] = field(default_factory=dict)
    spi_in: str | None = None
    spi_out: str | None = None


def child_derivations(events: list[Event]) -> list[ChildDerivation]:
    out: list[ChildDerivation] = []
    current: dict[str, ChildDerivation] = {}
    proposal: dict[str, str] = {}
    dh: dict[str, bytes] = {}
    for ev in events:
        if ev.text.startswith("selected proposal: ESP:"):
            proposal[ev.thread] = ev.text.split(": ", 1)[1]
        elif ev.group == "CHD" and ev.label == "DH secret" and ev.blob is not None:
            dh[ev.thread] = ev.blob
        elif ev.group == "CHD" and ev.label == "seed" and ev.blob is not None:
            c = ChildDerivation(
                ev.node,
                ev.lineno,
                ev.ike_id,
                proposal.pop(ev.thread, None),
                dh.pop(ev.thread, None),
                ev.blob,
            )
            current[ev.thread] = c
            out.append(c)
        elif ev.group == "CHD" and ev.label in CHILD_LABELS and ev.thread in current:
            current[ev.thread].keys[CHILD_LABELS[ev.label]] = ev.blob or b""
        else:
            m = CHILD_RE.search(ev.text)
            if m and ev.thread in current:
                c = current.pop(ev.thread)
                c.spi_in, c.spi_out = m.group(4), m.group(5)
    return [c for c in out if c.spi_in]


# ---------------------------------------------------------------------------------- pcap


def pcap_ike_messages(path: Path) -> list[bytes]:
    """IKE messages (header onwards) from UDP 500 and UDP 4500 (after the non-ESP marker)."""
    data = path.read_bytes()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    link_len = {1: 14, 101: 0, 228: 0, 113: 16}[linktype]
    out = []
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[pos + 8 : pos + 12])[0]
        ip = data[pos + 16 + link_len : pos + 16 + incl]
        pos += 16 + incl
        if len(ip) >= 48 and ip[0] >> 4 == 6 and ip[6] == 17:
            # IPv6 (ipv6-outer): UDP straight after the 40-byte fixed header.
            ihl = 40
        elif len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        else:
            ihl = (ip[0] & 0x0F) * 4
            if struct.unpack("!H", ip[6:8])[0] & 0x1FFF:
                # A later IP fragment has no UDP header; the first one holds the IKE header.
                continue
        sport, dport = struct.unpack("!HH", ip[ihl : ihl + 4])
        payload = ip[ihl + 8 :]
        if 4500 in (sport, dport):
            if payload[:4] != b"\0\0\0\0":
                continue
            payload = payload[4:]
        elif 500 not in (sport, dport):
            continue
        if len(payload) >= 28:
            out.append(payload)
    return out


EXCHANGES = {34: "IKE_SA_INIT", 35: "IKE_AUTH", 36: "CREATE_CHILD_SA", 37: "INFORMATIONAL"}


def wire_summary(messages: list[bytes]) -> list[dict]:
    """RFC 7296 3.1 header fields of every IKE message on the wire, in capture order."""
    out = []
    for msg in messages:
        exchange, flags = msg[18], msg[19]
        out.append(
            {
                "spi_i": msg[:8].hex(),
                "spi_r": msg[8:16].hex(),
                "exchange": EXCHANGES.get(exchange, str(exchange)),
                "message_id": struct.unpack("!I", msg[20:24])[0],
                "response": bool(flags & 0x20),
                "first_payload": msg[16],
            }
        )
    return out


def sa_init_nonces(messages: list[bytes]) -> list[tuple[str, str, bool, bytes]]:
    """(spi_i, spi_r, is_response, Ni or Nr) for every IKE_SA_INIT (exchange 34) message."""
    out = []
    for msg in messages:
        spi_i, spi_r = msg[:8].hex(), msg[8:16].hex()
        next_payload, exchange, flags = msg[16], msg[18], msg[19]
        if exchange != 34:
            continue
        # RFC 7296 3.2: walk the generic payload headers to the Nonce payload (type 40).
        pos = 28
        while next_payload and pos + 4 <= len(msg):
            nxt, length = msg[pos], struct.unpack("!H", msg[pos + 2 : pos + 4])[0]
            if length < 4:
                break
            if next_payload == 40:
                out.append((spi_i, spi_r, bool(flags & 0x20), msg[pos + 4 : pos + length]))
            next_payload, pos = nxt, pos + length
    return out


# ---------------------------------------------------------------------------------- crypto


def prf(key: bytes, data: bytes, hash_len: int) -> bytes:
    return hmac.new(key, data, PRF_BY_LEN[hash_len]).digest()


def prf_plus(key: bytes, seed: bytes, hash_len: int, length: int) -> bytes:
    """RFC 7296 section 2.13: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n)."""
    out, t, n = b"", b"", 1
    while len(out) < length:
        t = prf(key, t + seed + bytes([n]), hash_len)
        out += t
        n += 1
    return out[:length]


# ---------------------------------------------------------------------------------- truth


def hx(b: bytes | None) -> str | None:
    return None if b is None else b.hex()


def proposal_group(proposal: str | None) -> str | None:
    """The key exchange method in a charon proposal string, if any."""
    if not proposal:
        return None
    for part in proposal.split(":", 1)[1].split("/"):
        if part.startswith(("MODP_", "ECP_", "CURVE_", "ECP", "X")):
            return part
    return None


def is_notable(ev: Event) -> bool:
    """Log lines worth keeping in truth.json: errors, notifies, DPD, fragmentation,
    retransmissions, rekey collisions, EAP results and MOBIKE address updates."""
    t = ev.text
    return (
        "notify error" in t
        or "INVALID_KE_PAYLOAD" in t
        or ("requested" in t and "DH group" in t)
        or ("requesting" in t and "DH group" in t)
        or "no CHILD_SA built" in t
        or "MAC mismatched" in t
        or ("failed" in t and ev.group == "IKE")
        or "no acceptable proposal" in t
        or ("fragment" in t and ("splitting" in t or "reassembled" in t))
        or ("DPD" in t and "sending" in t)
        or ("traffic selectors" in t and "unacceptable" in t)
        or "retransmit" in t
        or "collision" in t
        or t.startswith(("EAP method", "server requested EAP", "EAP-Identity"))
        or "using MOBIKE" in t
        or "UPD_SA_ADDR" in t
        or t.startswith(("old path", "checking path", "got additional MOBIKE"))
        or "COOKIE notify" in t
        or t.startswith(("redirected to", "redirecting peer", "client got redirected"))
    )


def extract(scen: Path) -> tuple[dict, str]:
    # A node run by another implementation (libreswan) has no charon log: use what there is.
    nodes = [n for n in NODES if (scen / f"{n}.log").exists()]
    events = {n: parse_log(n, scen / f"{n}.log") for n in nodes}
    messages = pcap_ike_messages(scen / "capture.pcap")

    # Candidate nonces: IKE_SA_INIT from the wire, the rest from the ENC payload dumps.
    init_nonces = sa_init_nonces(messages)
    generated = {n: log_nonces(events[n])[0] for n in nodes}
    nonces: set[bytes] = {x[3] for x in init_nonces}
    for n in nodes:
        g, p = log_nonces(events[n])
        nonces |= g | p

    spi_pairs: set[tuple[str, str]] = set()
    for n in nodes:
        for ev in events[n]:
            m = CHECKIN_RE.search(ev.text)
            if m and m.group(4) != "0" * 16:
                spi_pairs.add((m.group(3), m.group(4)))

    # ---- IKE SAs: identify each logged derivation by the SPIs and nonces that reproduce Sk_d.
    ike_sas: dict[tuple[str, str], dict] = {}
    derivs = [d for n in nodes for d in ike_derivations(events[n])]
    for d in derivs:
        hlen = len(d.keys["skeyseed"])
        found = None
        for spi_i, spi_r in sorted(spi_pairs):
            spis = bytes.fromhex(spi_i + spi_r)
            for ni in nonces:
                for nr in nonces:
                    if ni == nr:
                        continue
                    km = prf_plus(d.keys["skeyseed"], ni + nr + spis, hlen, len(d.keys["sk_d"]))
                    if km == d.keys["sk_d"]:
                        found = (spi_i, spi_r, ni, nr)
                        break
                if found:
                    break
            if found:
                break
        if not found:
            print(
                f"warning: {d.node}.log:{d.lineno}: derivation matches no IKE SA", file=sys.stderr
            )
            continue
        spi_i, spi_r, ni, nr = found
        entry = ike_sas.setdefault(
            (spi_i, spi_r),
            {"spi_i": spi_i, "spi_r": spi_r, "ni": ni.hex(), "nr": nr.hex(), "logged_by": []},
        )
        entry["logged_by"].append(f"{d.node}.log:{d.lineno}")
        values = {"shared_secret": hx(d.gir), **{k: hx(v) for k, v in d.keys.items()}}
        for k, v in values.items():
            if k in entry and entry[k] != v:
                raise SystemExit(f"{scen}: {k} differs between the logs for {spi_i}")
            entry[k] = v
        entry["_gir"], entry["_hlen"] = d.gir, hlen

    # Initial SA (SKEYSEED = prf(Ni | Nr, g^ir)) or rekey (prf(SK_d old, g^ir | Ni | Nr)).
    for sa in ike_sas.values():
        ni, nr = bytes.fromhex(sa["ni"]), bytes.fromhex(sa["nr"])
        seed = bytes.fromhex(sa["skeyseed"])
        sa["rekey_of"] = None
        if prf(ni + nr, sa["_gir"], sa["_hlen"]) == seed:
            sa["created_by"] = "IKE_SA_INIT"
            continue
        sa["created_by"] = "CREATE_CHILD_SA"
        for old in ike_sas.values():
            if old is sa:
                continue
            if prf(bytes.fromhex(old["sk_d"]), sa["_gir"] + ni + nr, sa["_hlen"]) == seed:
                sa["rekey_of"] = {"spi_i": old["spi_i"], "spi_r": old["spi_r"]}
                old["rekeyed_by"] = {"spi_i": sa["spi_i"], "spi_r": sa["spi_r"]}
    for sa in ike_sas.values():
        sa.setdefault("rekeyed_by", None)

    # Nonces on the wire must agree with the ones that reproduce the keys.
    for spi_i, spi_r, is_resp, nonce in init_nonces:
        sa = ike_sas.get((spi_i, spi_r)) if is_resp else None
        if sa is None and not is_resp:
            sa = next(
                (s for s in ike_sas.values() if s["spi_i"] == spi_i and s["ni"] == nonce.hex()),
                None,
            )
        if sa is not None:
            sa["nonces_in_pcap"] = True

    # Unique IKE SA ids per node -> SPIs, proposals and authentication.
    ids: dict[str, dict[int, tuple[str, str]]] = {n: {} for n in nodes}
    for n in nodes:
        for ev in events[n]:
            m = CHECKIN_RE.search(ev.text)
            if m and m.group(4) != "0" * 16:
                ids[n][int(m.group(2))] = (m.group(3), m.group(4))
    eap_lines = {n: eap_secrets(events[n]) for n in nodes}
    for n in nodes:
        last_secret: dict[str, bytes] = {}
        building: dict[str, dict] = {}
        eap = eap_info(events[n], eap_lines[n])
        for ev in events[n]:
            if (
                ev.group == "IKE"
                and ev.label == "secret"
                and ev.blob is not None
                and ev.lineno not in eap_lines[n]
            ):
                # Building our AUTH: the secret follows "(myself)"; verifying the peer's AUTH:
                # the secret that worked is the last one logged before "successful".
                if ev.thread in building:
                    building.pop(ev.thread)["psk"] = ev.blob.decode(errors="replace")
                last_secret[ev.thread] = ev.blob
            spis = ids[n].get(ev.ike_id) if ev.ike_id is not None else None
            sa = ike_sas.get(spis) if spis else None
            if ev.text.startswith("selected proposal: IKE:"):
                prop = ev.text.split(": ", 1)[1]
                # On a rekey the proposal is logged in the old SA's context: attach it to the
                # SA created in that same thread right after (checked below by the DH group).
                target = sa if sa is not None and sa["created_by"] == "IKE_SA_INIT" else None
                for other in ike_sas.values():
                    logged = [int(x.split(":")[1]) for x in other["logged_by"] if x.startswith(n)]
                    if other["created_by"] == "CREATE_CHILD_SA" and any(
                        0 < ln - ev.lineno < 50 for ln in logged
                    ):
                        target = other
                if target is not None:
                    target.setdefault("proposal", prop)
            m = AUTH_RE.search(ev.text)
            if m and sa is not None and ev.group == "IKE":
                myself = bool(m.group(2))
                side = n if myself else ("responder" if n == "initiator" else "initiator")
                method = m.group(3)
                entry = {"id": m.group(1), "method": method}
                auth = sa.setdefault("auth", {})
                if method == "EAP" and side in auth:
                    # The responder's second AUTH, after EAP (over the MSK or SK_pr): its
                    # identity was proven by the first one.
                    continue
                if method == "EAP":
                    info = eap.get(ev.ike_id, {})
                    entry["eap"] = {
                        "identity": info.get("identity"),
                        "method": info.get("method"),
                        "msk": info.get("msk"),
                    }
                auth[side] = entry
                if myself and method == "pre-shared key":
                    building[ev.thread] = entry
                elif m.group(4) and method == "pre-shared key" and ev.thread in last_secret:
                    entry["psk"] = last_secret[ev.thread].decode(errors="replace")
    for sa in ike_sas.values():
        sa["dh_group"] = proposal_group(sa.get("proposal"))
        sa.setdefault("auth", None)
    # The new IKE SA a node deleted after losing a rekey collision (RFC 7296 2.8.2).
    for n in nodes:
        for ev in events[n]:
            lost = IKE_LOST_RE.search(ev.text)
            spis = ids[n].get(int(lost.group(1))) if lost else None
            if spis in ike_sas:
                ike_sas[spis]["redundant"] = True
    # Both crossing rekeys derive from the old SA; the one that survives replaced it.
    for sa in ike_sas.values():
        if sa["rekey_of"] and not sa.get("redundant"):
            old = ike_sas[(sa["rekey_of"]["spi_i"], sa["rekey_of"]["spi_r"])]
            old["rekeyed_by"] = {"spi_i": sa["spi_i"], "spi_r": sa["spi_r"]}

    # ---- CHILD SAs: both nodes log the same keys; identify the parent SA via SK_d (RFC 7296 2.17).
    children: dict[tuple[str, str], dict] = {}
    for n in nodes:
        for c in child_derivations(events[n]):
            parent = None
            total = sum(len(v) for v in c.keys.values())
            for sa in ike_sas.values():
                km = prf_plus(bytes.fromhex(sa["sk_d"]), c.seed, sa["_hlen"], total)
                if km[: len(c.keys["encr_i"])] == c.keys["encr_i"]:
                    parent = sa
                    break
            rest = c.seed[len(c.dh) :] if c.dh else c.seed
            ni = next((x for x in nonces if rest.startswith(x)), None)
            nr = rest[len(ni) :] if ni else None
            # The exchange initiator generated Ni; its outbound SPI carries the initiator keys.
            exch_init = ni in generated[n] if ni else n == "initiator"
            spi_i_to_r = c.spi_out if exch_init else c.spi_in
            spi_r_to_i = c.spi_in if exch_init else c.spi_out
            init_node = n if exch_init else ("responder" if n == "initiator" else "initiator")
            resp_node = "responder" if init_node == "initiator" else "initiator"
            key = (spi_i_to_r, spi_r_to_i)
            entry = children.setdefault(
                key,
                {
                    "ike_spi_i": parent["spi_i"] if parent else None,
                    "ike_spi_r": parent["spi_r"] if parent else None,
                    "proposal": c.proposal,
                    "exchange_initiator": init_node,
                    "pfs_group": proposal_group(c.proposal) if c.dh else None,
                    "pfs_shared_secret": hx(c.dh),
                    "ni": hx(ni),
                    "nr": hx(nr),
                    "esp": [
                        {
                            "spi": spi_i_to_r,
                            "sender": init_node,
                            "receiver": resp_node,
                            "encr_key": hx(c.keys.get("encr_i")),
                            "integ_key": hx(c.keys.get("integ_i")),
                        },
                        {
                            "spi": spi_r_to_i,
                            "sender": resp_node,
                            "receiver": init_node,
                            "encr_key": hx(c.keys.get("encr_r")),
                            "integ_key": hx(c.keys.get("integ_r")),
                        },
                    ],
                    "logged_by": [],
                },
            )
            entry["logged_by"].append(f"{n}.log:{c.lineno}")
            if entry["proposal"] is None:
                entry["proposal"] = c.proposal

    mark_redundant(events, children)

    # ---- notable notifies / errors, from both logs.
    notes = []
    for n in nodes:
        esp_header: dict[str, str] = {}
        for ev in events[n]:
            if ev.group in ("IKE", "ENC", "CFG") and is_notable(ev):
                notes.append(f"{n}: {ev.text}")
            elif ev.group == "ESP" and ev.text.startswith("parsed ESP header with SPI"):
                esp_header[ev.thread] = ev.text.split("SPI ", 1)[1]
            elif ev.group == "ESP" and "ICV verification failed" in ev.text:
                # libipsec names the packet in the line before: "SPI 1ea63fba [seq 3]".
                notes.append(f"{n}: {ev.text} (SPI {esp_header.get(ev.thread, '?')})")

    # ---- PSKs actually used (logged as 'secret' in the AUTH computation).
    psks: list[bytes] = []
    for n in nodes:
        for ev in events[n]:
            if (
                ev.group == "IKE"
                and ev.label == "secret"
                and ev.blob
                and ev.blob not in psks
                and ev.lineno not in eap_lines[n]
            ):
                psks.append(ev.blob)

    sa_list = sorted(ike_sas.values(), key=lambda s: min(s["logged_by"]))
    for sa in sa_list:
        sa.pop("_gir")
        sa.pop("_hlen")
    truth = {
        "scenario": scen.name,
        "source": "charon 5.9.8 logs (ike/enc/chd level 4) and capture.pcap; extract_truth.py",
        "ike_sas": [order_ike(sa) for sa in sa_list],
        "child_sas": list(children.values()),
        "psks": [p.decode(errors="replace") for p in psks],
        "ike_messages": wire_summary(messages),
        "log_notes": notes,
    }
    return truth, keys_toml(scen, truth, psks, children)


IKE_LOST_RE = re.compile(r"IKE_SA rekey collision lost, deleting redundant IKE_SA \S+\[(\d+)\]")
LOST_RE = re.compile(r"CHILD_SA rekey collision lost, deleting redundant child (\S+)\{(\d+)\}")


def mark_redundant(events: dict[str, list[Event]], children: dict) -> None:
    """Flag the CHILD_SA a node deleted as redundant after losing a rekey collision
    (RFC 7296 2.8.1): ``redundant: true`` (the key is absent on every other child)."""
    for evs in events.values():
        spis_by_id: dict[str, set[str]] = {}
        for ev in evs:
            m = CHILD_RE.search(ev.text)
            if m:
                spis_by_id.setdefault(m.group(3), set()).update((m.group(4), m.group(5)))
            lost = LOST_RE.search(ev.text)
            if lost is None:
                continue
            spis = spis_by_id.get(lost.group(2), set())
            for child in children.values():
                if {e["spi"] for e in child["esp"]} == spis:
                    child["redundant"] = True


IKE_ORDER = (
    "spi_i", "spi_r", "created_by", "rekey_of", "rekeyed_by", "proposal", "dh_group", "ni", "nr",
    "shared_secret", "skeyseed", "sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr",
    "auth", "nonces_in_pcap", "logged_by",
)  # fmt: skip


def order_ike(sa: dict) -> dict:
    out = {k: sa[k] for k in IKE_ORDER if k in sa}
    out.update({k: v for k, v in sa.items() if k not in out})
    return out


# Scenarios whose keys.toml gives each PFS child secret as a bare [[dh]] shared_secret (no
# child = true, no SPIs), the way a user pastes "DH secret" from charon's log.
UNSCOPED_CHILD_DH = {"pfs-create-child"}


def toml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid TOML basic string


def keys_toml(scen: Path, truth: dict, psks: list[bytes], children: dict) -> str:
    """keys.toml: only what a user would supply (PSKs and DH shared secrets)."""
    # id: the identity whose AUTH payload the secret computes, when exactly one side used it
    # (with asymmetric PSKs charon signs with the secret it binds to the PEER's identity).
    users: dict[str, set[str]] = {}
    for sa in truth["ike_sas"]:
        for a in (sa.get("auth") or {}).values():
            if "psk" in a:
                users.setdefault(a["psk"], set()).add(a["id"])
    lines = [
        f"# Key material a user would supply for {scen.name}/capture.pcap.",
        "# Only pre-shared keys and (EC)DH shared secrets g^ir; everything else is derived.",
        "",
    ]
    eap = eap_toml(scen, truth)
    if eap:
        lines[1] = (
            "# Only pre-shared keys, EAP passwords and (EC)DH shared secrets g^ir; everything"
            " else is derived."
        )
    lines += eap
    for p in psks:
        text = p.decode(errors="replace")
        lines.append("[[psk]]")
        lines.append(f"secret = {toml_str(text)}")
        ids = users.get(text, set())
        if len(ids) == 1:
            lines.append(f"id = {toml_str(ids.pop())}")
        lines.append("")
    for sa in truth["ike_sas"]:
        lines.append("[[dh]]")
        lines.append(f"shared_secret = {toml_str(sa['shared_secret'])}")
        lines.append(f"spi_i = {toml_str(sa['spi_i'])}")
        lines.append("")
    for c in children.values():
        if c["pfs_shared_secret"] and scen.name in UNSCOPED_CHILD_DH:
            lines.append("[[dh]]  # PFS g^ir of a CREATE_CHILD_SA, given without its SPIs")
            lines.append(f"shared_secret = {toml_str(c['pfs_shared_secret'])}")
            lines.append("")
        elif c["pfs_shared_secret"]:
            lines.append("[[dh]]")
            lines.append(f"shared_secret = {toml_str(c['pfs_shared_secret'])}")
            lines.append("child = true")
            # The SPI in the CREATE_CHILD_SA request (chosen by the exchange initiator, who
            # receives with it) and the one in the response.
            lines.append(f"spi_i = {toml_str(c['esp'][1]['spi'])}")
            lines.append(f"spi_r = {toml_str(c['esp'][0]['spi'])}")
            lines.append("")
    return "\n".join(lines)


EAP_SECRET_RE = re.compile(r"\beap-[\w-]+\s*\{\s*id\s*=\s*(\S+)\s+secret\s*=\s*\"([^\"]*)\"")


EAP_SENT_RE = re.compile(r"^initiator: server requested EAP_IDENTITY .*, sending '([^']+)'$")


def eap_passwords(scen: Path) -> dict[str, str]:
    """EAP passwords by identity from the scenario's initiator swanctl.conf (charon never logs
    them): what the EAP user knows, for keys.toml."""
    conf = Path(__file__).resolve().parent / "scenarios" / scen.name / "initiator" / "swanctl.conf"
    if not conf.exists():
        return {}
    return dict(EAP_SECRET_RE.findall(conf.read_text()))


def eap_toml(scen: Path, truth: dict) -> list[str]:
    """[[eap]] entries for the EAP identities truth.json shows, with their passwords."""
    passwords = eap_passwords(scen)
    lines: list[str] = []
    seen: set[str] = set()
    idents = [
        (a.get("eap") or {}).get("identity")
        for sa in truth["ike_sas"]
        for a in (sa.get("auth") or {}).values()
    ]
    # An EAP method that failed (eap-wrong-password) leaves no EAP AUTH in truth.json; the
    # identity the client sent is still in its log.
    idents += [m.group(1) for n in truth["log_notes"] for m in [EAP_SENT_RE.search(n)] if m]
    for ident in idents:
        if ident and ident not in seen and ident in passwords:
            seen.add(ident)
            lines += ["[[eap]]", f"identity = {toml_str(ident)}"]
            lines += [f"password = {toml_str(passwords[ident])}", ""]
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: extract_truth.py SCENARIO_DIR", file=sys.stderr)
        return 2
    scen = Path(argv[1]).resolve()
    truth, keys = extract(scen)
    (scen / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    # Where no peer derived a key (nothing answered IKE_SA_INIT) a user has nothing to supply
    # that the capture could use: no keys.toml rather than an empty one.
    if truth["ike_sas"] or truth["psks"]:
        (scen / "keys.toml").write_text(keys)
    else:
        (scen / "keys.toml").unlink(missing_ok=True)
    print(
        f"{scen.name}: {len(truth['ike_sas'])} IKE SA(s), {len(truth['child_sas'])} CHILD SA(s),"
        f" {len(truth['psks'])} PSK(s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
