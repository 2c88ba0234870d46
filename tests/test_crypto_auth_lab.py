"""auth.py against strongSwan 5.9.8: AUTH values charon logged while running the lab scenarios.

charon at IKE/ENC log level 4 dumps IDx', SK_p, the signed octets, the PSK, prf(secret, keypad)
and the shared-key MIC, and (ENC) the AUTH payload data it generated or parsed. These tests
recompute the MICs and verify charon's RFC 7427 signatures (certs-frag: RSA PKCS#1 v1.5 SHA-256
and ECDSA SHA-256) with the lab certificates, all from an independent implementation's output.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lab_support import LAB

from ikeview.crypto.auth import (
    KEY_PAD,
    AuthMethod,
    AuthSide,
    match_psks,
    psk_auth,
    side_signed_octets,
    verify_signature,
)
from ikeview.crypto.prf import Prf, get_prf, supported_prfs

_PRF_BY_NAME = {get_prf(i).name: get_prf(i) for i in supported_prfs()}

_LINE = re.compile(r"^\d\d:\d\d:\d\d (\d+)\[(\w+)\] (?:<[^>]*> )?(.*)$")
_HEAD = re.compile(r"^(.*?)\s*=> (\d+) bytes @ 0x[0-9a-f]+$")
_ROW = re.compile(r"^\s*(\d+): (.*)$")


@dataclass
class Event:
    """One log line: its text, or for a hex dump its label and bytes."""

    thread: str
    text: str
    data: bytes | None = None


def _parse_log(path: Path) -> list[Event]:
    """Log lines in order; charon's ``label => N bytes @ addr`` dumps become bytes."""
    events: list[Event] = []
    open_dumps: dict[str, tuple[Event, int, bytearray]] = {}
    for line in path.read_text(errors="replace").splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        thread, text = m.group(1), m.group(3)
        pending = open_dumps.get(thread)
        row = _ROW.match(text)
        if pending and row and int(row.group(1)) == len(pending[2]):
            ev, size, buf = pending
            # 16 octets per row as "XX " groups, then the ASCII column.
            count = min(16, size - len(buf))
            buf += bytes.fromhex(row.group(2)[: 3 * count])
            if len(buf) == size:
                ev.data = bytes(buf)
                del open_dumps[thread]
            continue
        head = _HEAD.match(text)
        ev = Event(thread, head.group(1) if head else text)
        events.append(ev)
        if head:
            size = int(head.group(2))
            if size:
                open_dumps[thread] = (ev, size, bytearray())
            else:
                ev.data = b""
    return events


def _last_before(events: list[Event], index: int, label: str, thread: str) -> bytes:
    for ev in reversed(events[:index]):
        if ev.thread == thread and ev.text == label and ev.data is not None:
            return ev.data
    raise AssertionError(f"no {label!r} before event {index}")


def _prf_of(sa: dict) -> Prf:
    proposal = sa["proposal"]
    (name,) = [p for p in proposal.split(":", 1)[1].split("/") if p.startswith("PRF_")]
    return _PRF_BY_NAME[name]


def _scenarios() -> list[Path]:
    return sorted(p.parent for p in LAB.glob("*/truth.json"))


_MIC_LABEL = "AUTH = prf(prf(secret, keypad), octets)"
_OCTETS_LABEL = "octets = message + nonce + prf(Sk_px, IDx')"

_MIC_CASES = [
    pytest.param(d, log, id=f"{d.name}-{log}")
    for d in _scenarios()
    for log in ("initiator.log", "responder.log")
    if (d / log).is_file() and _MIC_LABEL in (d / log).read_text(errors="replace")
]


def test_lab_logs_present() -> None:
    assert len(_MIC_CASES) >= 10


@pytest.mark.parametrize(("scenario", "log"), _MIC_CASES)
def test_shared_key_mic_matches_strongswan(scenario: Path, log: str) -> None:
    truth = json.loads((scenario / "truth.json").read_text())
    events = _parse_log(scenario / log)
    checked = 0
    for i, ev in enumerate(events):
        if ev.text != _MIC_LABEL or ev.data is None:
            continue
        octets = _last_before(events, i, _OCTETS_LABEL, ev.thread)
        # RealMessage starts with the IKE header, so its first 8 octets name the IKE SA.
        sa = next(s for s in truth["ike_sas"] if s["spi_i"] == octets[:8].hex())
        prf = _prf_of(sa)
        ni, nr = bytes.fromhex(sa["ni"]), bytes.fromhex(sa["nr"])
        secret = _last_before(events, i, "secret", ev.thread)
        id_body = _last_before(events, i, "IDx'", ev.thread)
        sk_p = _last_before(events, i, "SK_p", ev.thread)
        # RFC 7296 2.15: the signed octets end with prf(SK_px, IDx') after the peer's nonce.
        assert octets.endswith(prf(sk_p, id_body))
        body = octets[: -prf.output_len]
        peer_nonce = nr if body.endswith(nr) else ni
        assert body.endswith(peer_nonce)
        side = AuthSide(body[: -len(peer_nonce)], peer_nonce, id_body, sk_p, ev.data)
        assert side_signed_octets(prf, side) == octets
        assert prf(secret, KEY_PAD) == _last_before(events, i, "prf(secret, keypad)", ev.thread)
        assert psk_auth(prf, secret, octets) == ev.data
        if secret.decode(errors="replace") not in truth["psks"]:
            # After EAP (RFC 7296 2.16) the MIC's key is the MSK, or SK_pi/SK_pr for a method
            # without one (EAP-MD5): not a PSK.
            msks = {
                a["eap"]["msk"]
                for a in (sa.get("auth") or {}).values()
                if (a.get("eap") or {}).get("msk")
            }
            assert secret.hex() in {sa["sk_pi"], sa["sk_pr"]} | msks
            checked += 1
            continue
        # The matcher finds charon's secret among the scenario's PSKs (plus a decoy).
        cands = [("decoy", b"not-the-psk")] + [(p, p.encode()) for p in truth["psks"]]
        match = match_psks(prf, cands, side, None)
        assert match.initiator == secret.decode()
        checked += 1
    assert checked >= 1


# --- RFC 7427 signatures (certs-frag) ---------------------------------------------------------
_AUTHED = re.compile(r"^authentication of '([^']+)' (\(myself\) )?with (\S+) successful$")


def _auth_payload_data(events: list[Event]) -> list[bytes]:
    """Authentication Data of every AUTH payload charon generated or parsed (ENC dumps)."""
    found, inside, want_chunk = [], False, False
    for ev in events:
        if ev.text.startswith(("generating payload of type AUTH", "parsing AUTH payload,")):
            inside = True
        elif ev.text.startswith(("generating AUTH payload finished", "parsing AUTH payload fin")):
            inside = False
        elif inside and "CHUNK_DATA" in ev.text:
            want_chunk = True
        elif inside and want_chunk and ev.data is not None:
            found.append(ev.data)
            want_chunk = False
    return found


def _end_entities(scenario: Path) -> list[x509.Certificate]:
    """The scenario's end-entity certificates (not the CAs), from certs/."""
    out = []
    for path in sorted((scenario / "certs").glob("*.crt")):
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            out.append(cert)
    return out


def _names(cert: x509.Certificate) -> set[str]:
    """The identities charon logs for a certificate: its subjectAltNames (DNS, email) and the
    CN (which names it in a DN identity such as 'C=XX, O=ikeview lab, CN=gw.lab.example')."""
    names = {a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)}
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return {str(n) for n in names}
    names |= set(san.get_values_for_type(x509.DNSName))
    names |= set(san.get_values_for_type(x509.RFC822Name))
    return {str(n) for n in names}


def _cert_der(scenario: Path, ident: str) -> bytes:
    """The end-entity certificate whose name is the identity (or its CN, for a DN)."""
    key = ident.rsplit("CN=", 1)[1] if "CN=" in ident else ident
    (cert,) = [c for c in _end_entities(scenario) if key in _names(c)]
    return cert.public_bytes(Encoding.DER)


_SIG_CASES = [
    pytest.param(d, log, id=f"{d.name}-{log}")
    for d in _scenarios()
    for log in ("initiator.log", "responder.log")
    if (d / "certs").is_dir()
    and (d / log).is_file()
    # frag-drop: the responder never received IKE_AUTH, so its log holds no AUTH payload.
    and "AUTH payload" in (d / log).read_text(errors="replace")
]


@pytest.mark.parametrize(("scenario", "log"), _SIG_CASES)
def test_rfc7427_signatures_from_strongswan(scenario: Path, log: str) -> None:
    events = _parse_log(scenario / log)
    payloads = _auth_payload_data(events)
    assert payloads
    expected = {
        "RSA_EMSA_PKCS1_SHA2_256": "RSASSA-PKCS1-v1_5 SHA256",
        # frag-drop: charon signs with SHA-384 for an RSA-4096 key.
        "RSA_EMSA_PKCS1_SHA2_384": "RSASSA-PKCS1-v1_5 SHA384",
        "ECDSA_WITH_SHA256_DER": "ECDSA SHA256 secp256r1",
        "ECDSA_WITH_SHA384_DER": "ECDSA SHA384 secp384r1",
    }
    checked = 0
    for i, ev in enumerate(events):
        m = _AUTHED.match(ev.text)
        # After EAP the final AUTHs are MACs (test_crypto_eap covers them), not signatures.
        if not m or m.group(3) == "EAP":
            continue
        ident, method = m.group(1), m.group(3)
        octets = _last_before(events, i, _OCTETS_LABEL, ev.thread)
        cert = _cert_der(scenario, ident)
        verdicts = [
            verify_signature(AuthMethod.DIGITAL_SIGNATURE, p, octets, cert) for p in payloads
        ]
        good = [v for v in verdicts if v.verified]
        assert len(good) == 1, (ident, [v.reason for v in verdicts])
        assert good[0].algorithm == expected[method]
        # The same AUTH data over other octets, or with the other side's certificate, fails.
        auth = payloads[verdicts.index(good[0])]
        assert not verify_signature(14, auth, octets[:-1] + b"\x00", cert).verified
        for other in (c.public_bytes(Encoding.DER) for c in _end_entities(scenario)):
            if other != cert:
                assert not verify_signature(14, auth, octets, other).verified
        checked += 1
    # frag-drop: only the initiator authenticated (its IKE_AUTH request never arrived); with EAP
    # (eap-cert, eap-wrong-password, cert-untrusted) only the gateway signs.
    # cert-untrusted: the client had no trusted key for the gateway's certificate, so its log
    # never verified the signature ("no trusted ECDSA public key found").
    signers = len(_end_entities(scenario))
    if (scenario.name, log) == ("cert-untrusted", "initiator.log"):
        signers = 0
    assert checked == (1 if scenario.name == "frag-drop" else signers)
