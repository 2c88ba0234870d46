"""Readable payload values (issue #12): no Python repr anywhere in the payload tree.

Expected values come from the packets and the lab's files: the natt scenario puts the initiator
behind a NAT (captures/lab/README.md), the invalid-ke responder asks for group 19 (its
responder.log), certs-frag's certificates are in captures/lab/certs-frag/certs/.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from ikeview.dissectors import ike_records as rec
from ikeview.dissectors import notify_data as nd
from ikeview.tui import text
from ikeview.tui.app import make_app
from ikeview.tui.safe import clean
from ikeview.tui.widgets.ladder import Ladder
from ikeview.tui.widgets.message_view import PayloadTree
from tui_support import LAB, SIZE, lab_keys, loaded, no_animations, sync  # noqa: F401 (autouse fixture)

from ikeview import payload_text
from ikeview.certinfo import describe, identity_matches
from ikeview.pipeline.analyze import analyze

REPR = re.compile(r"Notify[A-Z]\w*\(|=b'|\(\w+=")
"""What a dataclass repr looks like (``NotifyGroup(group=19)``, ``digest=b'...'``)."""


def lines_of(m: object) -> list[str]:
    out = []
    for p in (*m.payloads, *m.inner):  # type: ignore[attr-defined]
        out.append(payload_text.payload_label(p))
        out.extend(payload_text.payload_details(p, m, text.transforms_short))  # type: ignore[arg-type]
    return out


def all_lines(capture: Path, keys: list[Path]) -> list[str]:
    ring = lab_keys(keys[0].parent) if keys else None
    analysis = analyze(capture, ring)
    return [line for sa in analysis.ike_sas for m in sa.messages for line in lines_of(m)]


def test_no_repr_in_any_lab_or_shared_capture(shared_dir: Path) -> None:
    """Every payload line of every lab capture and the shared IKEv2 captures reads as words."""
    keys = [Path(p).parent / "keys.toml" for p in glob.glob(str(LAB / "*/capture.pcap"))]
    caps = [(k.parent / "capture.pcap", [k] if k.exists() else []) for k in keys]
    caps += [
        (shared_dir / "captures/tcpdump/ikev2four.pcap", []),
        (shared_dir / "captures/public/scapy_ikev2_notify_redirect.pcap", []),
    ]
    for capture, keys in caps:
        for line in all_lines(capture, keys):
            assert not REPR.search(line), (capture, line)


def test_natt_nat_detection_says_which_side() -> None:
    """natt: the initiator sits behind a NAT, so its source hash differs; the destination's
    hash matches the responder's address as captured."""
    lines = all_lines(LAB / "natt" / "capture.pcap", [LAB / "natt" / "keys.toml"])
    assert any(line.startswith("differs from the source 192.0.2.129:500") for line in lines)
    assert any(line.startswith("matches the destination 192.0.2.130:500") for line in lines)
    assert "hash algorithms SHA2-256, SHA2-384, SHA2-512, Identity" in lines
    assert "SA (1 proposal)" in lines and "KE group 19 (ECP-256)" in lines


def test_invalid_ke_names_the_group() -> None:
    lines = all_lines(LAB / "invalid-ke" / "capture.pcap", [LAB / "invalid-ke" / "keys.toml"])
    assert "wants group 19 (ECP-256)" in lines


def test_cookie_and_redirect_from_shared_captures(shared_dir: Path) -> None:
    lines = all_lines(shared_dir / "captures/tcpdump/ikev2four.pcap", [])
    assert any(line.startswith("cookie 00000001c2221e50") for line in lines)
    lines = all_lines(shared_dir / "captures/public/scapy_ikev2_notify_redirect.pcap", [])
    assert "gateway 10.5.2.52 (IPv4)" in lines


def test_counts_and_hashes_in_words() -> None:
    """AUTH_LIFETIME (RFC 4478) in seconds and hours; SET_WINDOW_SIZE; hash names (RFC 7427)."""
    life = rec.NotifyPayload(41, False, 0, 12, b"", 0, b"", 16403, b"", nd.NotifyCount(9841))
    assert payload_text.notify_lines(life) == ["re-authenticate within 9841 s (2 h 44 min)"]
    window = rec.NotifyPayload(41, False, 0, 12, b"", 0, b"", 16385, b"", nd.NotifyCount(5))
    assert payload_text.notify_lines(window) == ["window size 5"]
    assert payload_text.hash_names((2, 3, 4, 5)) == "SHA2-256, SHA2-384, SHA2-512, Identity"
    assert payload_text.seconds_words(3600) == "3600 s (1 h)"


def test_certificate_decoded_and_identity_checked() -> None:
    """certs-frag: the initiator's certificate (certs/initiator.crt) as subject, issuer, SAN,
    validity and key; IDi matches it, another name does not."""
    pem = (LAB / "certs-frag" / "certs" / "initiator.crt").read_bytes()
    cert = x509.load_pem_x509_certificate(pem)
    info = describe(cert.public_bytes(Encoding.DER))
    assert info.subject == cert.subject.rfc4514_string()
    assert info.san == ("DNS:initiator.lab.example",)
    assert info.key == "RSA 3072"
    assert identity_matches(info, 2, "initiator.lab.example") is True
    assert identity_matches(info, 2, "responder.lab.example") is False
    assert identity_matches(info, 9, "", cert.subject.public_bytes()) is True
    assert describe(b"\x30\x03junk").error
    lines = all_lines(LAB / "certs-frag" / "capture.pcap", [LAB / "certs-frag" / "keys.toml"])
    assert "IDi initiator.lab.example matches this certificate" in lines
    assert "IDr responder.lab.example matches this certificate" in lines
    assert "SAN DNS:initiator.lab.example" in lines


def test_clean_strips_terminal_controls() -> None:
    assert clean("a\x1b[31mb\x07c\x9bd\u202ee") == "a\\x1b[31mb\\x07c\\x9bd\\u202ee"


@sync
async def test_payload_tree_shows_header_and_words() -> None:
    """The payload tree of natt's IKE_SA_INIT request: the header with addresses, ports,
    time, version, exchange and length; NAT-D in words."""
    capture = LAB / "natt" / "capture.pcap"
    async with make_app(capture, keys=[LAB / "natt" / "keys.toml"]).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        screen.query_one(Ladder).focus()
        await pilot.press("enter")
        await pilot.pause()
        tree = screen.query_one(PayloadTree)
        labels = []

        def walk(node: object) -> None:
            labels.append(str(node.label))  # type: ignore[attr-defined]
            for child in node.children:  # type: ignore[attr-defined]
                walk(child)

        walk(tree.root)
        assert "192.0.2.129:500 → 192.0.2.130:500 (UDP)" in labels
        assert any(s.startswith("time +0.000000 · 2026-") for s in labels)
        assert "IKE version 2.0 · exchange IKE_SA_INIT (34) · message ID 0" in labels
        assert not any(REPR.search(s) for s in labels)
