"""Views for tickets (issue #12): the SA card (``i``), the transcript (``L``, ``y`` copies),
checked against the lab peers' own logs."""

from __future__ import annotations

import re

from ikeview.tui.app import make_app
from ikeview.tui.screens.textview import TextScreen
from tui_support import LAB, SIZE, loaded, no_animations, sync  # noqa: F401 (autouse fixture)

from ikeview.card import card_lines
from ikeview.keys.loader import load_keys
from ikeview.pipeline.analyze import analyze
from ikeview.transcript import sa_transcript

CHARON = re.compile(r"\] <[^>]*> ((?:generating|parsed) \S+ (?:request|response) \d+ \[.*\])")


def lab_sa(name: str):  # type: ignore[no-untyped-def]
    cap = LAB / name
    return analyze(cap / "capture.pcap", load_keys([cap / "keys.toml"])).ike_sas[0]


def test_transcript_matches_the_initiators_charon_log() -> None:
    """natt and gcm16-ecp256: every generating/parsed line equals the initiator's own log."""
    for name in ("natt", "gcm16-ecp256"):
        log = (LAB / name / "initiator.log").read_text(errors="replace")
        want = [m.group(1) for m in CHARON.finditer(log)]
        got = [line for line in sa_transcript(lab_sa(name)) if not line.startswith(("  ", "IKE"))]
        assert got == want[: len(got)] and len(got) >= 4, name


def test_card_fields() -> None:
    """natt: ports floated to 4500, NAT-T, AES-GCM-16 256, ECP-256 group 19, both PSK sides
    verified with the identities of the lab config, the child SA's encaps/decaps counts."""
    lines = card_lines(lab_sa("natt"))
    text = "\n".join(lines)
    assert "local 192.0.2.129:4500 (initiator), remote 192.0.2.130:4500 (responder)" in text
    assert "NAT-T: initiator behind a NAT" in text
    assert "encryption ENCR_AES_GCM_16, key size 256" in text
    assert "DH group 19 (ECP_256)" in text
    assert "initiator identity initiator.lab.example, auth SHARED_KEY_MIC (verified)" in text
    assert "responder identity responder.lab.example, auth SHARED_KEY_MIC (verified)" in text
    assert re.search(r"encaps \(from the initiator\) 0x[0-9a-f]{8} .*#pkts 3", text)
    assert re.search(r"decaps \(to the initiator\) +0x[0-9a-f]{8} .*#pkts 3", text)


@sync
async def test_i_and_L_open_views_and_y_copies() -> None:
    """i opens the card, L the transcript; y copies it (OSC 52 through the app)."""
    cap = LAB / "natt"
    app = make_app(cap / "capture.pcap", keys=[cap / "keys.toml"])
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        assert any(line.startswith("DH group 19") for line in app.screen.lines)
        await pilot.press("escape", "L")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        await pilot.press("y")
        assert copied and "parsed IKE_AUTH response 1 [ IDr AUTH SA TSi TSr" in copied[0]


@sync
async def test_export_every_kind_from_the_tui(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """rekey-dpd: e writes the ESP timeline, Wireshark's key tables and a decrypted pcap with
    the core's writers (the same files `ikeview export/keys/decrypt` write)."""
    from ikeview.tui.screens.dialogs import ExportChoice
    from textual.widgets import Select

    cap = LAB / "rekey-dpd"
    app = make_app(cap / "capture.pcap", keys=[cap / "keys.toml"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#export-kind", Select).value = "pcap"
        await pilot.pause()
        assert app.screen.query_one("#export-path").value.endswith("-decrypted.pcap")  # type: ignore[attr-defined]
        await pilot.press("escape")
        for kind, name in (("esp", "esp.csv"), ("wireshark", "ws"), ("pcap", "dec.pcap")):
            screen.export_to(ExportChoice(kind, tmp_path / name))
            await app.workers.wait_for_complete()
            await pilot.pause()
        esp = (tmp_path / "esp.csv").read_text()
        assert "0c95ce69" in esp.lower()
        assert (tmp_path / "ws" / "esp_sa").read_text().count("0x0c95ce69") == 1
        assert (tmp_path / "ws" / "ikev2_decryption_table").exists()
        pcap = (tmp_path / "dec.pcap").read_bytes()
        assert pcap[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x0a\x0d\x0d\x0a")
        titles = [n.title for n in app._notifications]
        assert titles.count("exported") == 3, [n.message for n in app._notifications]
