"""ESP per SPI and direction (issue #12): counters as strongSwan's in/out and Cisco's
encaps/decaps lines, gaps and replays marked in the rows."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
from ikeview.tui.app import make_app
from ikeview.tui.widgets.esp_table import EspTable, seq_mark
from textual.widgets import Static
from tui_support import LAB, SIZE, loaded, no_animations, sync  # noqa: F401 (autouse fixture)


def test_sequence_marks() -> None:
    """RFC 4303 3.4.3: the next number is clean; a repeat is a replay; a jump leaves a gap."""
    assert seq_mark(5, 4) == "" and seq_mark(1, None) == ""
    assert seq_mark(4, 4) == "replay"
    assert seq_mark(9, 4) == "gap 4"
    assert seq_mark(3, 4) == "out of order"


@sync
async def test_counters_per_spi_and_direction() -> None:
    """rekey-dpd: the first child SA's two SPIs, one per direction, 2 packets each (the ping
    in the lab script), with their addresses; every row's sequence number follows on."""
    cap = LAB / "rekey-dpd"
    async with make_app(cap / "capture.pcap", keys=[cap / "keys.toml"]).run_test(
        size=(200, 50)
    ) as pilot:
        screen = await loaded(pilot)
        await pilot.press("5")
        await pilot.pause()
        title = str(screen.query_one("#esp-title", Static).render())
        child = screen.analysis.ike_sas[0].child_sas[0]  # type: ignore[union-attr]
        for st in child.esp:
            assert f"0x{st.spi:08x} {st.src} → {st.dst}  {st.packets} pkts" in title
        assert {st.src for st in child.esp} == {"192.0.2.1", "192.0.2.2"}
        table = screen.query_one(EspTable)
        assert table.view is not None
        marks = [
            seq_mark(table.view.row(n).seq, table.view.previous_seq(n))
            for n in range(len(table.view))
        ]
        assert marks == [""] * len(marks)


@sync
async def test_goto_frame_and_esp_packet_detail() -> None:
    """rekey-dpd: ':' 27 shows the second SA's liveness check in the ladder; ':' 13 opens the
    ESP tab on that packet (SPI 0x0c95ce69, sequence 1 in the capture); enter opens its
    detail."""
    from ikeview.tui.screens.packet import EspPacketScreen
    from ikeview.tui.widgets.ladder import Ladder
    from textual.widgets import TabbedContent

    cap = LAB / "rekey-dpd"
    app = make_app(cap / "capture.pcap", keys=[cap / "keys.toml"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("3", "colon", "2", "7", "enter")
        await pilot.pause()
        await pilot.pause()
        ladder = screen.query_one(Ladder)
        assert screen.query_one(TabbedContent).active == "ladder"
        assert ladder.message_at(ladder.highlighted).frame == 27  # type: ignore[union-attr]
        await pilot.press("colon", "1", "3", "enter")
        await pilot.pause()
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "esp"
        table = screen.query_one(EspTable)
        row = table.view.row(table.cursor)  # type: ignore[union-attr]
        assert (row.frame, row.spi, row.seq) == (13, 0x0C95CE69, 1)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, EspPacketScreen)
        text = "\n".join(app.screen.lines)
        assert "ESP header: SPI 0x0c95ce69, sequence 1 (in order)" in text
        assert "outer 192.0.2.1 → 192.0.2.2" in text


def tshark_frame(path: Path, frame: int) -> bytes:
    """The frame's bytes as tshark reads them."""
    out = subprocess.run(
        ["tshark", "-r", str(path), "-Y", f"frame.number == {frame}", "-T", "json", "-x"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return bytes.fromhex(json.loads(out)[0]["_source"]["layers"]["frame_raw"][0])


def cbc_hmac_inner(esp: bytes, encr_key: bytes) -> bytes:
    """RFC 4303 by hand for AES-CBC-128 with HMAC-SHA2-256-128 (RFC 3602, RFC 4868): IV after
    SPI and sequence, 16-byte ICV at the end; the trailer's pad length says where the inner
    packet ends."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv, body = esp[8:24], esp[24:-16]
    plain = Cipher(algorithms.AES(encr_key), modes.CBC(iv)).decryptor().update(body)
    pad_length = plain[-2]
    return plain[: -2 - pad_length]


@pytest.mark.tshark
@sync
async def test_esp_packet_detail_shows_the_frames_hex() -> None:
    """rekey-dpd frame 13: enter on the ESP row reads the frame back from the file; its hex is
    tshark's frame bytes, the ESP header is marked where tshark's SPI sits, and the decrypted
    inner packet equals a decryption by hand with the key charon logged for SPI 0c95ce69
    (truth.json); y copies lines and hex. A live capture says plainly it has no bytes."""
    from ikeview.tui.screens.packet import EspPacketScreen
    from ikeview.tui.widgets.hexview import HexView

    cap = LAB / "rekey-dpd"
    truth = json.loads((cap / "truth.json").read_text())
    key = next(
        bytes.fromhex(e["encr_key"])
        for c in truth["child_sas"]
        for e in c["esp"]
        if e["spi"] == "0c95ce69"
    )
    wire = tshark_frame(cap / "capture.pcap", 13)
    spi_at = wire.index(bytes.fromhex("0c95ce6900000001"))
    app = make_app(cap / "capture.pcap", keys=[cap / "keys.toml"])
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("colon", "1", "3", "enter")
        await pilot.pause()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = app.screen
        assert isinstance(shown, EspPacketScreen)
        assert shown.got is not None
        assert shown.got.data == wire
        assert shown.got.esp_offset == spi_at
        assert screen.rows.seek is not None  # a plain pcap: read from a checkpoint
        assert not any("cannot seek" in n.message for n in app._notifications)
        assert shown.got.inner == cbc_hmac_inner(wire[spi_at:], key)
        assert shown.query_one(HexView).marked == (0, spi_at, spi_at + 8)
        assert [s.data for s in shown.sections] == [wire, shown.got.inner]
        assert "bytes read back from the capture: decrypted" in shown.lines
        await pilot.press("y")
        assert copied and f"{spi_at:04x}"[:3] in copied[0] and "decrypted inner packet" in copied[0]
        await pilot.press("escape")
        await pilot.pause()
        # The same screen as a live capture has it: no file to read the bytes from.
        screen.request = dataclasses.replace(screen.request, capture=None, interface="lab0")
        screen.query_one(EspTable).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EspPacketScreen)
        assert app.screen.got is None
        assert any("a live capture keeps no packet bytes" in x for x in app.screen.lines)
        await pilot.press("escape")
        await pilot.pause()
        # The file went away after the load: said, not a traceback.
        screen.request = dataclasses.replace(screen.request, capture=cap / "gone.pcap")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, EspPacketScreen) and app.screen.got is None
        assert "hex: the frame is no longer in the capture file" in app.screen.lines


@pytest.mark.tshark
@sync
async def test_esp_hex_from_a_gzip_pcapng_matches_tshark(shared_dir: Path) -> None:
    """Wireshark's esp-bug-12671 (gzip pcapng, ESP only) with its esp_sa table: frame 1 read
    back through the gzip reader is tshark's frame; the inner packet decrypted again has the
    inner IPv4 addresses, length and ID tshark's own decryption with the same table shows."""
    import ipaddress
    import struct

    from ikeview.tui.screens.packet import EspPacketScreen

    ws = shared_dir / "captures" / "wireshark"
    cap, table = ws / "esp-bug-12671.pcapng.gz", ws / "esp_sa.tmpl"
    uat = []
    for line in table.read_text().splitlines():
        uat += ["-o", f"uat:esp_sa:{line}"]
    fields = subprocess.run(
        [
            "tshark",
            "-r",
            str(cap),
            "-o",
            "esp.enable_encryption_decode:TRUE",
            *uat,
            "-Y",
            "frame.number == 1",
            "-T",
            "fields",
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
            "-e",
            "ip.len",
            "-e",
            "ip.id",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\t")
    inner_src, inner_dst, inner_len, inner_id = (f.strip().split(",")[-1] for f in fields)
    app = make_app(cap, keys=[table])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("colon", "1", "enter")
        await pilot.pause()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = app.screen
        assert isinstance(shown, EspPacketScreen) and shown.got is not None
        assert shown.got.data == tshark_frame(cap, 1)
        inner = shown.got.inner
        assert inner is not None
        length, ident = struct.unpack_from("!HH", inner, 2)
        assert str(ipaddress.IPv4Address(inner[12:16])) == inner_src
        assert str(ipaddress.IPv4Address(inner[16:20])) == inner_dst
        assert (length, ident) == (int(inner_len), int(inner_id, 16))
        # A gzip stream cannot seek: the frame was found by walking the file, and it says so.
        said = [n.message for n in app._notifications]
        assert any("a compressed capture cannot seek" in m for m in said), said


@sync
async def test_esp_hex_while_loading_is_not_decrypted_yet() -> None:
    """Before the load is over the run's decryptor belongs to the load worker: the detail shows
    the frame's bytes and says the plaintext comes once the load is over (rekey-dpd, 13)."""
    from ikeview.tui.screens.packet import EspPacketScreen

    cap = LAB / "rekey-dpd"
    app = make_app(cap / "capture.pcap", keys=[cap / "keys.toml"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("colon", "1", "3", "enter")
        await pilot.pause()
        screen.loaded = False  # as during a load
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = app.screen
        assert isinstance(shown, EspPacketScreen) and shown.got is not None
        assert shown.got.inner is None and len(shown.sections) == 1
        assert any("decrypted bytes once the load is over" in line for line in shown.lines)
