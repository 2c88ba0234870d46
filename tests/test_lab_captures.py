"""The committed strongSwan lab captures agree with their ground truth and key files.

Runs on the files in captures/lab/ only (the lab itself needs root and is rebuilt with
captures/lab/make.sh). Checks: every capture has packets; the SPIs and IKE_SA_INIT nonces in
truth.json occur in the capture; keys.toml holds only PSKs and DH shared secrets that match
truth.json and no derived value; raw-ESP copies carry the same ESP bytes as the original.
"""

from __future__ import annotations

import json
import re
import struct
import tomllib
from pathlib import Path

import pytest
from lab_support import LAB, esp_icv_failures

# Scenario folders relative to captures/lab; interop/ holds runs against another implementation.
SCENARIOS = sorted(
    str(p.parent.relative_to(LAB))
    for g in ("*/truth.json", "interop/*/truth.json")
    for p in LAB.glob(g)
)
# Values that are derived by the key schedule and must never be needed from a user.
DERIVED_IKE = ("skeyseed", "sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr")


def read_pcap(path: Path) -> list[bytes]:
    """Frames of a classic little- or big-endian pcap file."""
    data = path.read_bytes()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    assert data[:4] in (
        b"\xd4\xc3\xb2\xa1",
        b"\xa1\xb2\xc3\xd4",
        b"\x4d\x3c\xb2\xa1",
        b"\xa1\xb2\x3c\x4d",
    )
    frames = []
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[pos + 8 : pos + 12])[0]
        frames.append(data[pos + 16 : pos + 16 + incl])
        pos += 16 + incl
    assert pos == len(data), "trailing bytes in pcap"
    return frames


def load(name: str) -> tuple[dict, dict, bytes]:
    d = LAB / name
    truth = json.loads((d / "truth.json").read_text())
    # No keys.toml where no peer derived any key (nothing for a user to supply).
    path = d / "keys.toml"
    keys = tomllib.loads(path.read_text()) if path.exists() else {}
    return truth, keys, (d / "capture.pcap").read_bytes()


def test_scenarios_exist() -> None:
    assert "psk-aes256-sha256-modp2048" in SCENARIOS


@pytest.mark.parametrize("name", SCENARIOS)
def test_capture_non_empty(name: str) -> None:
    frames = read_pcap(LAB / name / "capture.pcap")
    assert len(frames) >= 2
    # Both peers' charon logs, except where one peer is another implementation (libreswan).
    logs = [LAB / name / f"{n}.log" for n in ("initiator", "responder")]
    present = [p for p in logs if p.exists()]
    assert len(present) == 2 or (LAB / name / "initiator-pluto.log").exists()
    assert present and all(p.stat().st_size > 0 for p in present)


# Scenarios whose ESP is dropped on purpose: the node whose outbound SPI never carries a packet.
SILENT_ESP_SENDER = {"esp-one-way": "responder"}


@pytest.mark.parametrize("name", SCENARIOS)
def test_truth_values_in_capture(name: str) -> None:
    truth, _, pcap = load(name)
    esp = esp_payloads(read_pcap(LAB / name / "capture.pcap"), raw=False)
    has_esp = bool(esp)
    esp_spis = {p[:4].hex() for p in esp}
    for sa in truth["ike_sas"]:
        # Every IKE message header carries both SPIs in clear (RFC 7296 3.1).
        assert bytes.fromhex(sa["spi_i"] + sa["spi_r"]) in pcap, sa["spi_i"]
        if sa["created_by"] == "IKE_SA_INIT":
            # IKE_SA_INIT is unencrypted; later nonces are inside SK payloads.
            assert bytes.fromhex(sa["ni"]) in pcap
            assert bytes.fromhex(sa["nr"]) in pcap
    for child in truth["child_sas"]:
        assert child["ike_spi_i"] in {sa["spi_i"] for sa in truth["ike_sas"]}
        for sa in child["esp"]:
            assert len(bytes.fromhex(sa["encr_key"])) >= 16
            # The SPI opens each ESP packet sent to it (scenarios with ESP ping both ways).
            if child.get("redundant"):
                continue  # the loser of a rekey collision, deleted before any traffic
            if has_esp and SILENT_ESP_SENDER.get(name) == sa["sender"]:
                assert sa["spi"] not in esp_spis, sa["spi"]
            elif has_esp:
                assert sa["spi"] in esp_spis, sa["spi"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_keys_toml_only_user_secrets(name: str) -> None:
    truth, keys, _ = load(name)
    assert set(keys) <= {"psk", "dh", "eap"}
    # [[eap]]: the identity and password of each EAP user the logs show (eap-md5, eap-mschapv2).
    eap_ids = {
        a["eap"]["identity"]
        for sa in truth["ike_sas"]
        for a in (sa.get("auth") or {}).values()
        if a.get("eap")
    }
    # An EAP method that failed leaves no EAP AUTH; the identity the client sent is in its log
    # (eap-wrong-password: "server requested EAP_IDENTITY (id 0x00), sending 'carol'").
    eap_ids |= {
        n.rsplit("sending '", 1)[1].rstrip("'")
        for n in truth["log_notes"]
        if n.startswith("initiator: server requested EAP_IDENTITY")
    }
    assert {e["identity"] for e in keys.get("eap", [])} == eap_ids
    assert all(set(e) == {"identity", "password"} and e["password"] for e in keys.get("eap", []))
    ike_secrets = {sa["shared_secret"] for sa in truth["ike_sas"]}
    child_secrets = {c["pfs_shared_secret"] for c in truth["child_sas"] if c["pfs_shared_secret"]}
    dh = keys.get("dh", [])
    # pfs-create-child gives its PFS secret bare (no child = true, no SPIs), as users paste it.
    bare = {d["shared_secret"] for d in dh if "spi_i" not in d}
    assert bare <= child_secrets and bool(bare) == (name == "pfs-create-child")
    assert {d["shared_secret"] for d in dh if "spi_i" in d and not d.get("child")} == ike_secrets
    assert {d["shared_secret"] for d in dh if d.get("child")} == child_secrets - bare
    scoped = {d["spi_i"] for d in dh if "spi_i" in d and not d.get("child")}
    assert scoped == {s["spi_i"] for s in truth["ike_sas"]}
    for d in dh:
        assert set(d) <= {"shared_secret", "spi_i", "spi_r", "child"}
    assert [p["secret"] for p in keys.get("psk", [])] == truth["psks"]

    path = LAB / name / "keys.toml"
    assert path.exists() == bool(truth["ike_sas"] or truth["psks"])
    text = path.read_text().lower() if path.exists() else ""
    derived = [sa[k] for sa in truth["ike_sas"] for k in DERIVED_IKE if sa.get(k)]
    derived += [
        a["eap"]["msk"]
        for sa in truth["ike_sas"]
        for a in (sa.get("auth") or {}).values()
        if (a.get("eap") or {}).get("msk")
    ]
    for child in truth["child_sas"]:
        for esp in child["esp"]:
            derived += [v for v in (esp["encr_key"], esp["integ_key"]) if v]
    assert derived or not truth["ike_sas"]
    for value in derived:
        assert value.lower() not in text


def esp_payloads(frames: list[bytes], raw: bool) -> list[bytes]:
    """ESP bytes per packet: IP protocol 50 (raw) or UDP 4500 without the marker (encap)."""
    out = []
    for f in frames:
        ip = f[14:]
        if ip[0] >> 4 == 6:
            # ipv6-outer: the next header straight after the 40-byte fixed header.
            ihl, proto = 40, ip[6]
        elif ip[0] >> 4 == 4:
            ihl, proto = (ip[0] & 0x0F) * 4, ip[9]
        else:
            continue
        if raw and proto == 50:
            out.append(ip[ihl:])
        elif not raw and proto == 17:
            sport, dport = struct.unpack("!HH", ip[ihl : ihl + 4])
            body = ip[ihl + 8 :]
            if 4500 in (sport, dport) and len(body) > 4 and body[:4] != b"\0\0\0\0":
                out.append(body)
    return out


def ip_header_ok(ip: bytes) -> bool:
    ihl = (ip[0] & 0x0F) * 4
    words = struct.unpack(f"!{ihl // 2}H", ip[:ihl])
    total = sum(words)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF and struct.unpack("!H", ip[2:4])[0] == len(ip)


@pytest.mark.parametrize("name", SCENARIOS)
def test_raw_esp_copy_has_same_esp_bytes(name: str) -> None:
    truth, _, _ = load(name)
    orig = read_pcap(LAB / name / "capture.pcap")
    raw_path = LAB / name / "capture-esp-raw.pcap"
    encap = esp_payloads(orig, raw=False)
    if not encap:
        assert not raw_path.exists()
        return
    raw = read_pcap(raw_path)
    assert len(raw) == len(orig)
    assert esp_payloads(raw, raw=True) == encap
    assert not esp_payloads(raw, raw=False)
    for f in raw:
        if f[14] >> 4 == 4 and f[14 + 9] == 50:
            assert ip_header_ok(f[14:])
        elif f[14] >> 4 == 6 and f[14 + 6] == 50:
            assert struct.unpack("!H", f[18:20])[0] == len(f) - 14 - 40
    spis = {e["spi"] for c in truth["child_sas"] for e in c["esp"]}
    assert {p[:4].hex() for p in encap} <= spis


# tshark 4.0 names for the ESP SA table (no ChaCha20-Poly1305 there, so that scenario is skipped).
TSHARK_ENCR = {
    "AES_CBC": "AES-CBC [RFC3602]",
    "AES_GCM_16": "AES-GCM with 16 octet ICV [RFC4106]",
    "3DES_CBC": "TripleDES-CBC [RFC2451]",
}
TSHARK_INTEG = {
    "HMAC_SHA2_256_128": "HMAC-SHA-256-128 [RFC4868]",
    "HMAC_SHA2_512_256": "HMAC-SHA-512-256 [RFC4868]",
    "HMAC_SHA1_96": "HMAC-SHA-1-96 [RFC2404]",
}


def tshark_esp_args(child: dict) -> list[str] | None:
    parts = child["proposal"].split(":", 1)[1].split("/")
    encr = next((v for k, v in TSHARK_ENCR.items() if parts[0].startswith(k)), None)
    integ = TSHARK_INTEG.get(parts[1], "NULL")
    if encr is None:
        return None
    args = []
    for esp in child["esp"]:
        key = esp["integ_key"] or ""
        auth_key = f"0x{key}" if key else ""
        # Outer IPv4, or IPv6 (ipv6-outer): one SA table entry per protocol.
        args += [
            arg
            for proto in ("IPv4", "IPv6")
            for arg in (
                "-o",
                f'uat:esp_sa:"{proto}","*","*","0x{esp["spi"]}","{encr}","0x{esp["encr_key"]}",'
                f'"{integ}","{auth_key}"',
            )
        ]
    return args


@pytest.mark.tshark
@pytest.mark.parametrize("name", SCENARIOS)
def test_tshark_decrypts_esp_with_truth_keys(name: str) -> None:
    """An independent implementation (Wireshark) decrypts every ESP packet with truth.json."""
    import shutil
    import subprocess

    if shutil.which("tshark") is None:
        pytest.skip("tshark not installed")
    truth, _, _ = load(name)
    raw_path = LAB / name / "capture-esp-raw.pcap"
    if not truth["child_sas"] or not raw_path.exists():
        pytest.skip("no ESP in this scenario")
    args = ["-o", "esp.enable_encryption_decode:TRUE"]
    for child in truth["child_sas"]:
        extra = tshark_esp_args(child)
        if extra is None:
            pytest.skip(f"tshark cannot decrypt {child['proposal']}")
        args += extra
    n_esp = len(esp_payloads(read_pcap(raw_path), raw=True))
    out = subprocess.run(
        [
            "tshark",
            "-n",
            "-r",
            str(raw_path),
            *args,
            "-Y",
            "icmp",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    # esp-corrupt: the packets charon rejected (ICV) do not decrypt to ICMP for tshark either.
    assert len(out) == n_esp - sum(esp_icv_failures(truth).values())


TSHARK_IKE_ENCR = {
    "AES_CBC_128": "AES-CBC-128 [RFC3602]",
    "AES_CBC_256": "AES-CBC-256 [RFC3602]",
    "AES_GCM_16_128": "AES-GCM-128 with 16 octet ICV [RFC5282]",
    "AES_GCM_16_256": "AES-GCM-256 with 16 octet ICV [RFC5282]",
    "3DES_CBC": "3DES [RFC2451]",
}
TSHARK_IKE_INTEG = {
    "HMAC_SHA2_256_128": "HMAC_SHA2_256_128 [RFC4868]",
    "HMAC_SHA2_512_256": "HMAC_SHA2_512_256 [RFC4868]",
    "HMAC_SHA1_96": "HMAC_SHA1_96 [RFC2404]",
}


@pytest.mark.tshark
@pytest.mark.parametrize("name", SCENARIOS)
def test_tshark_decrypts_ike_with_truth_keys(name: str) -> None:
    """Wireshark decrypts the SK payloads with truth.json's SK_*: every nonce in truth.json,
    including those of rekeys that exist only inside encrypted CREATE_CHILD_SA messages,
    is what Wireshark reads from the capture."""
    import shutil
    import subprocess

    if shutil.which("tshark") is None:
        pytest.skip("tshark not installed")
    truth, _, _ = load(name)
    args = []
    for sa in truth["ike_sas"]:
        parts = sa["proposal"].split(":", 1)[1].split("/")
        encr = TSHARK_IKE_ENCR.get(parts[0])
        if encr is None:
            pytest.skip(f"tshark cannot decrypt {sa['proposal']}")
        integ = TSHARK_IKE_INTEG.get(parts[1], "NONE [RFC4306]")
        # Hex fields are unquoted in a Wireshark UAT record.
        args += [
            "-o",
            f"uat:ikev2_decryption_table:{sa['spi_i']},{sa['spi_r']},{sa['sk_ei']},{sa['sk_er']},"
            f'"{encr}",{sa.get("sk_ai") or ""},{sa.get("sk_ar") or ""},"{integ}"',
        ]
    fields = ["-Y", "isakmp", "-T", "fields", "-e", "isakmp.nonce"]
    out = subprocess.run(
        ["tshark", "-n", "-r", str(LAB / name / "capture.pcap"), *args, *fields],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    seen = {n for line in out.split() for n in line.split(",") if n}
    expected = {sa[k] for sa in truth["ike_sas"] for k in ("ni", "nr")}
    expected |= {c[k] for c in truth["child_sas"] for k in ("ni", "nr") if c[k]}
    assert expected <= seen


PLUTO_SK_RE = re.compile(
    r"\| ikev2 ([IR]) 0x([0-9a-f]{16}) 0x([0-9a-f]{16}) \w+:0x([0-9a-f]+) \w+:0x([0-9a-f]+)"
)


@pytest.mark.parametrize(
    "name", [n for n in SCENARIOS if (LAB / n / "initiator-pluto.log").exists()]
)
def test_libreswan_agrees_with_truth(name: str) -> None:
    """Libreswan's own SK_a/SK_e (plutodebug crypt private) equal the strongSwan truth."""
    truth, _, _ = load(name)
    by_spis = {(sa["spi_i"], sa["spi_r"]): sa for sa in truth["ike_sas"]}
    found = PLUTO_SK_RE.findall((LAB / name / "initiator-pluto.log").read_text())
    assert {f[0] for f in found} == {"I", "R"}
    for side, spi_i, spi_r, sk_a, sk_e in found:
        sa = by_spis[(spi_i, spi_r)]
        x = side.lower()
        assert sk_a == sa[f"sk_a{x}"]
        # pluto logs SK_e without the AEAD salt; strongSwan's value includes it.
        assert sa[f"sk_e{x}"].startswith(sk_e)


# --- each failure / protocol scenario shows what it was made for (from its logs and packets) ---


def _notes(truth: dict, text: str) -> list[str]:
    return [n for n in truth["log_notes"] if text in n]


def _ip_frames(name: str) -> list[bytes]:
    """IPv4 packets of a lab capture (Ethernet frames)."""
    return [f[14:] for f in read_pcap(LAB / name / "capture.pcap") if f[14] >> 4 == 4]


def test_ts_unacceptable_claim() -> None:
    truth, _, _ = load("ts-unacceptable")
    assert len(truth["ike_sas"]) == 1 and truth["child_sas"] == []
    assert _notes(truth, "initiator: received TS_UNACCEPTABLE notify, no CHILD_SA built")
    assert _notes(truth, "unacceptable")  # the responder's reason
    auth = [m for m in truth["ike_messages"] if m["exchange"] == "IKE_AUTH"]
    assert [m["response"] for m in auth] == [False, True]


def test_unreachable_responder_claim() -> None:
    truth, _, _ = load("unreachable-responder")
    msgs = truth["ike_messages"]
    assert len(msgs) == 4 and truth["ike_sas"] == []
    assert {(m["exchange"], m["response"], m["spi_i"]) for m in msgs} == {
        ("IKE_SA_INIT", False, msgs[0]["spi_i"])
    }
    assert _notes(truth, "initiator: giving up after 3 retransmits")
    assert not (LAB / "unreachable-responder" / "keys.toml").exists()


def test_frag_drop_claim() -> None:
    truth, _, _ = load("frag-drop")
    # Every IKE_AUTH request went out as IP fragments (MF set, or a non-zero offset).
    frags = [ip for ip in _ip_frames("frag-drop") if struct.unpack("!H", ip[6:8])[0] & 0x3FFF]
    first = [ip for ip in frags if struct.unpack("!H", ip[6:8])[0] & 0x2000]
    auth = [m for m in truth["ike_messages"] if m["exchange"] == "IKE_AUTH"]
    assert len(auth) == 4 and not any(m["response"] for m in auth)
    assert len(first) == len(auth) and len(frags) == 2 * len(auth)
    assert _notes(truth, "initiator: giving up after 3 retransmits")
    # The responder never derived keys: only the initiator's log has the derivation.
    (sa,) = truth["ike_sas"]
    assert [x.split(":")[0] for x in sa["logged_by"]] == ["initiator.log"]


def test_dpd_timeout_claim() -> None:
    truth, _, _ = load("dpd-timeout")
    info = [m for m in truth["ike_messages"] if m["exchange"] == "INFORMATIONAL"]
    assert len(info) == 4 and not any(m["response"] for m in info)
    assert {m["message_id"] for m in info} == {2}
    assert truth["ike_messages"][-1]["exchange"] == "INFORMATIONAL"
    assert _notes(truth, "initiator: sending DPD request")
    assert _notes(truth, "initiator: giving up after 3 retransmits")


def test_rekey_collision_claim() -> None:
    truth, _, _ = load("rekey-collision")
    ccs = [m for m in truth["ike_messages"] if m["exchange"] == "CREATE_CHILD_SA"]
    # Two crossing requests (one per peer, each in its own message ID space) before either
    # response (RFC 7296 2.8.1).
    assert [m["response"] for m in ccs[:2]] == [False, False]
    assert sorted(m["message_id"] for m in ccs[:2]) == [0, 2]
    assert _notes(truth, "detected CHILD_REKEY collision with CHILD_REKEY")
    assert _notes(truth, "rekey collision won") and _notes(truth, "rekey collision lost")
    redundant = [c for c in truth["child_sas"] if c.get("redundant")]
    assert len(redundant) == 1 and redundant[0]["pfs_group"] == "MODP_2048"


@pytest.mark.parametrize(
    ("name", "method", "msk"),
    [("eap-md5", "EAP_MD5", False), ("eap-mschapv2", "EAP_MSCHAPV2", True)],
)
def test_eap_claim(name: str, method: str, msk: bool) -> None:
    truth, keys, _ = load(name)
    (sa,) = truth["ike_sas"]
    assert sa["auth"]["responder"]["method"] == "pre-shared key"
    eap = sa["auth"]["initiator"]["eap"]
    assert eap["method"] == method and bool(eap["msk"]) is msk
    assert [e["identity"] for e in keys["eap"]] == [eap["identity"]]
    # IKE_AUTH carries the EAP rounds: more than one request/response pair.
    auth = [m for m in truth["ike_messages"] if m["exchange"] == "IKE_AUTH"]
    assert len(auth) >= 8 and len(truth["child_sas"]) == 1


def test_mobike_claim() -> None:
    truth, _, _ = load("mobike")
    assert _notes(truth, "N(UPD_SA_ADDR)")
    assert _notes(truth, "initiator: requesting address change using MOBIKE")
    # ESP from the initiator leaves 192.0.2.1 before the move and 192.0.2.3 after it.
    sources = []
    for ip in _ip_frames("mobike"):
        ihl = (ip[0] & 0x0F) * 4
        if (
            ip[9] == 17
            and ip[ihl + 2 : ihl + 4] == b"\x11\x94"
            and ip[ihl + 8 : ihl + 12] != bytes(4)
            and ip[16:20] == bytes([192, 0, 2, 2])
        ):
            sources.append(ip[12:16])
    assert sources[0] == bytes([192, 0, 2, 1]) and sources[-1] == bytes([192, 0, 2, 3])


def test_pfs_create_child_claim() -> None:
    truth, keys, _ = load("pfs-create-child")
    first, second = truth["child_sas"]
    assert first["pfs_shared_secret"] is None and second["pfs_group"] == "MODP_2048"
    ccs = [m for m in truth["ike_messages"] if m["exchange"] == "CREATE_CHILD_SA"]
    assert [m["response"] for m in ccs] == [False, True]
    bare = [d for d in keys["dh"] if set(d) == {"shared_secret"}]
    assert [d["shared_secret"] for d in bare] == [second["pfs_shared_secret"]]


def test_ike_rekey_collision_claim() -> None:
    truth, keys, _ = load("ike-rekey-collision")
    first, *new = truth["ike_sas"]
    assert first["created_by"] == "IKE_SA_INIT" and len(new) == 2
    # Both new IKE SAs rekey the first one; one of them is the loser's, deleted as redundant.
    assert all(sa["rekey_of"] == {"spi_i": first["spi_i"], "spi_r": first["spi_r"]} for sa in new)
    (lost,) = [sa for sa in new if sa.get("redundant")]
    (won,) = [sa for sa in new if not sa.get("redundant")]
    assert first["rekeyed_by"] == {"spi_i": won["spi_i"], "spi_r": won["spi_r"]}
    ccs = [m for m in truth["ike_messages"] if m["exchange"] == "CREATE_CHILD_SA"]
    assert [m["response"] for m in ccs[:2]] == [False, False]
    assert _notes(truth, "detected IKE_REKEY collision with IKE_REKEY")
    assert _notes(truth, "IKE_SA rekey collision lost, deleting redundant IKE_SA")
    # Both new SAs' g^ir are in keys.toml (a decryptor needs the loser's for its DELETE).
    assert {d["spi_i"] for d in keys["dh"]} == {sa["spi_i"] for sa in truth["ike_sas"]}
    assert lost["spi_i"] != won["spi_i"]


def test_auth_failed_initiator_claim() -> None:
    truth, keys, _ = load("auth-failed-initiator")
    (sa,) = truth["ike_sas"]
    # The responder accepted the initiator's AUTH (made with "two") and answered with its own
    # (made with "one"), which the initiator could not verify with its wrong copy.
    assert sa["auth"]["initiator"]["psk"] == "lab-afi-psk-two"
    assert sa["auth"]["responder"]["psk"] == "lab-afi-psk-one"
    assert _notes(truth, "initiator: tried 2 shared keys")
    exchanges = [(m["exchange"], m["response"]) for m in truth["ike_messages"]]
    assert exchanges[2:] == [
        ("IKE_AUTH", False),
        ("IKE_AUTH", True),
        ("INFORMATIONAL", False),
        ("INFORMATIONAL", True),
    ]
    # Only the responder installed the CHILD_SA; no ESP followed.
    (child,) = truth["child_sas"]
    assert [x.split(":")[0] for x in child["logged_by"]] == ["responder.log"]
    assert "lab-afi-psk-one-WRONG-COPY" in [p["secret"] for p in keys["psk"]]


def test_cookie_claim() -> None:
    truth, _, _ = load("cookie")
    inits = [m for m in truth["ike_messages"] if m["exchange"] == "IKE_SA_INIT"]
    # Two IKE SAs; one IKE_SA_INIT answered with N(COOKIE) only (first payload Notify, 41, and
    # a zero SPIr), then sent again with the cookie under the same SPIi.
    (challenge,) = [m for m in inits if m["response"] and m["spi_r"] == "0" * 16]
    assert challenge["first_payload"] == 41
    again = [m for m in inits if not m["response"] and m["spi_i"] == challenge["spi_i"]]
    assert len(again) == 2 and again[1]["first_payload"] == 41  # N(COOKIE) comes first
    assert len(truth["ike_sas"]) == 2 and challenge["spi_i"] in {
        s["spi_i"] for s in truth["ike_sas"]
    }
    assert _notes(truth, "initiator: received COOKIE notify")


def test_redirect_claim() -> None:
    truth, _, _ = load("redirect")
    old, new = truth["ike_sas"]
    assert old["created_by"] == new["created_by"] == "IKE_SA_INIT"
    assert _notes(truth, "initiator: redirected to 192.0.2.4")
    assert _notes(truth, "responder: client got redirected from 192.0.2.2")
    # The responder's INFORMATIONAL request (message ID 0 of its own) on the old SA, then a
    # new IKE_SA_INIT (SPIr zero) for the new SA, to the new address.
    msgs = [(m["spi_i"], m["exchange"], m["response"]) for m in truth["ike_messages"]]
    i = msgs.index((old["spi_i"], "INFORMATIONAL", False))
    assert (new["spi_i"], "IKE_SA_INIT", False) in msgs[i:]
    assert len(truth["child_sas"]) == 2
    dests = {ip[16:20] for ip in _ip_frames("redirect") if ip[12:16] == bytes([192, 0, 2, 1])}
    assert dests == {bytes([192, 0, 2, 2]), bytes([192, 0, 2, 4])}


def test_childless_claim() -> None:
    truth, _, _ = load("childless")
    (sa,) = truth["ike_sas"]
    (child,) = truth["child_sas"]
    exchanges = [(m["exchange"], m["response"]) for m in truth["ike_messages"]]
    assert exchanges[:6] == [
        ("IKE_SA_INIT", False),
        ("IKE_SA_INIT", True),
        ("IKE_AUTH", False),
        ("IKE_AUTH", True),
        ("CREATE_CHILD_SA", False),
        ("CREATE_CHILD_SA", True),
    ]
    # The only CHILD_SA came from CREATE_CHILD_SA (with KE), none from IKE_AUTH (RFC 6023).
    assert child["pfs_group"] == "MODP_2048" and child["ni"] != sa["ni"]


def test_esp_corrupt_claim() -> None:
    truth, _, _ = load("esp-corrupt")
    (child,) = truth["child_sas"]
    to_resp = child["esp"][0]["spi"]
    # The responder rejected the 3rd and 6th ESP packets from the initiator (altered by the
    # router before the capture point); the capture holds all of them.
    fails = [n for n in truth["log_notes"] if "ICV verification failed" in n]
    assert fails == [
        f"responder: ESP decryption or ICV verification failed (SPI {to_resp} [seq 3])",
        f"responder: ESP decryption or ICV verification failed (SPI {to_resp} [seq 6])",
    ]
    seqs = [
        struct.unpack("!I", p[4:8])[0]
        for p in esp_payloads(read_pcap(LAB / "esp-corrupt" / "capture.pcap"), raw=False)
        if p[:4].hex() == to_resp
    ]
    assert seqs == [1, 2, 3, 4, 5, 6]
