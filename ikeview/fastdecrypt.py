"""``ikeview decrypt -o`` without a record per ESP packet: the batch path of ``write_decrypted``.

The capture is walked in place (``pipeline.fastwalk``): IKE and every other frame go through the
dissector, the correlator and ``pcapwrite``'s own handlers one at a time, exactly as in
``write_decrypted``; ESP of an SPI whose keys are settled (or that has none) is collected per SPI
and, before the next general frame or every few thousand packets, decrypted per SPI in one batch
(``EspSa.open_batch``). The frames of a batch are then written in frame order, each decrypted
packet replaced by its content as ``pcapwrite.rebuild_frame`` makes it, so the output file is
the same, byte for byte, and so is the ``DecryptStats`` line. A batch where some packet carries
ESP inside (ESP in ESP) goes the record way instead, frame by frame.

``write_decrypted`` stays the reference: tests/test_fastdecrypt.py compares the two outputs.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterable
from contextlib import nullcontext
from operator import itemgetter

from ikeview.directout import direct_output
from ikeview.dissectors.records import EspPacket, FrameError, IkeDatagram, RawFrame
from ikeview.dissectors.stream import Dissector
from ikeview.keys.model import KeyRing
from ikeview.outfile import flushing, open_output
from ikeview.pcapfile import MAGIC_BYTES, BinaryOut, Octets, PcapWriter, stamped_ethernet
from ikeview.pcapwrite import DecryptStats, handle_esp, handle_ike, rebuild_frame
from ikeview.pipeline.correlate import Correlator
from ikeview.pipeline.correlate.espbulk import FastItem, Outcome
from ikeview.pipeline.decrypt import KeyringDecryptor
from ikeview.pipeline.fastesp import open_held, take_held
from ikeview.pipeline.fastwalk import Buffer, Lane, RecordHeader, walk_pcap
from ikeview.pipeline.seam import EspOpened

_NO_KEYS = "no keys for ESP SPI"
_FIRST = itemgetter(0)
_IPPROTO_IPV4 = 4
_ETHERNET = 1


class _Abandon(Exception):
    """The walk met something odd: the partial output is thrown away (see write_decrypted_fast)."""


class _WriteFailed(Exception):
    """Writing the output failed (a full disk): not an OSError, so that the walk, which takes
    an OSError for a capture it cannot read and gives up for the general path, lets it through
    (the general path would only meet the same disk again, after reading the whole capture)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _Output:
    """The output as the sink writes it: an error of the file raised as :class:`_WriteFailed`."""

    def __init__(self, out: BinaryOut) -> None:
        self._out = out

    def write(self, data: bytes, /) -> int:
        try:
            return self._out.write(data)
        except OSError as exc:
            raise _WriteFailed(exc) from exc

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        self._out.close()


def write_decrypted_fast(
    capture: str | os.PathLike[str],
    keyring: KeyRing,
    output: str | os.PathLike[str],
    *,
    extra_ports: Iterable[int] = (),
) -> DecryptStats | None:
    """``pcapwrite.write_decrypted(capture, keyring, output)`` through the batch path; None
    (and ``output`` untouched) when the capture is not a regular capture file, or is a classic
    pcap with anything the reader would report: then call ``write_decrypted``."""
    ports = tuple(extra_ports)
    dec = KeyringDecryptor(keyring, keep_plaintext=True)
    try:
        # On _Abandon the temporary file is removed and ``output`` left as it was.
        with (
            open_output(output, "wb", inputs=[capture]) as opened,
            direct_output(opened, _size(capture)) as out,
            flushing(out.fileno()) if out is opened else nullcontext(),
        ):
            dissector = Dissector(extra_ports=ports)
            sink = _DecryptSink(dissector, dec, _Output(out))
            try:
                done = walk_pcap(capture, sink, fast_udp=not ports)
            except _WriteFailed as failed:
                raise failed.error from None  # ``open_output`` says it in one line
            if done is None:
                raise _Abandon
            # Read through CaptureReader (pcapng, gzip): a damaged file's last word, as the
            # record path has it from the reader.
            frames, last_ts, capture_stats = done
            tail = dissector.finish(capture_stats, frames, last_ts)
            if isinstance(tail, FrameError):
                sink.stats.frame_error(tail)
            sink.close()
    except _Abandon:
        return None
    return sink.stats


class _DecryptSink:
    """Takes a walk for ``decrypt -o``: general frames as write_decrypted takes them, lanes in
    batches, every frame written in order."""

    def __init__(self, dissector: Dissector, dec: KeyringDecryptor, out: BinaryOut) -> None:
        self.lanes: dict[int, Lane] = {}
        self.stats = DecryptStats()
        self._run = dissector.run
        self._dec = dec
        self._corr = Correlator(dec)
        self._out = out
        self._writer: PcapWriter | None = None
        self._mm: Buffer | None = None
        self._linktype = 0
        self._record: RecordHeader | None = None
        self._stamped = False

    def begin(self, mm: Buffer, linktype: int, record: RecordHeader) -> None:
        self._mm, self._linktype, self._record = mm, linktype, record
        # The mapped capture itself, a little-endian microsecond pcap as this writer makes: its
        # record headers' times are copied as they stand (the walker sends a file whose times
        # have a second or more of microseconds to the general path). Anything else (another
        # byte order, nanoseconds, the buffer of a pcapng's gathered frames) is converted.
        self._stamped = isinstance(mm, mmap.mmap) and mm[:4] == MAGIC_BYTES

    def lane(self, spi: int, src: bytes, dst: bytes, udp: bool) -> Lane | None:
        how = self._dec.esp_batch(spi)
        if how is None:
            return None
        lane = self.lanes[spi] = Lane(spi, src, dst, udp, how)
        return lane

    def frame(self, raw: RawFrame) -> None:
        self.flush()
        self._general(raw)

    def close(self) -> None:
        """After the walk: the file header even when there was no frame at all."""
        if self._writer is None:
            PcapWriter(self._out, _ETHERNET)

    def _general(self, raw: RawFrame) -> None:
        """One frame as write_decrypted takes it."""
        stats, dec, corr = self.stats, self._dec, self._corr
        stats.frames += 1
        frames = {raw.index: raw}
        replacements: dict[int, bytes] = {}
        for rec in self._run((raw,)):
            if isinstance(rec, EspPacket):
                handle_esp(rec, dec, frames, replacements, stats)
            elif isinstance(rec, IkeDatagram | FrameError):
                corr.feed(rec)
                if isinstance(rec, IkeDatagram):
                    handle_ike(rec, dec, frames, replacements, stats)
                else:
                    stats.frame_error(rec)
        new = replacements.get(raw.index)
        if new is None:
            self._write(raw.linktype, raw.ts, raw.data, raw.orig_len)
        else:
            self._write(raw.linktype, raw.ts, new, None)

    def _write(self, linktype: int, ts: float, data: bytes, orig_len: int | None) -> None:
        writer = self._writer
        if writer is None:
            writer = self._writer = PcapWriter(self._out, linktype)
        if linktype != writer.linktype:
            self.stats.other_linktype += 1
            return
        writer.write(ts, data, orig_len)
        self.stats.written += 1

    def flush(self) -> None:
        lanes = take_held(self.lanes)
        if not lanes:
            return
        mm = self._mm
        assert mm is not None
        opened = open_held(mm, lanes)
        if opened is None:
            for item in _in_order(lanes):
                self._general(self._raw(item))
            return
        rows: list[tuple[FastItem, Outcome | str]] = []
        for lane, outcomes in zip(lanes, opened, strict=True):
            if outcomes is None:
                problem = str(lane.how)
                rows += [(item, problem) for item in lane.items]
            elif self._linktype == 1 and len(lane.dst) == 4:
                rows += zip(lane.items, outcomes[0], strict=True)
            else:
                # Linux cooked or outer IPv6: rebuild_frame's own way (the link header's protocol
                # may change), not _write_rows' inline Ethernet-and-IPv4 one.
                pairs = zip(lane.items, outcomes[0], strict=True)
                rows += [(item, _general_form(out)) for item, out in pairs]
        if len(lanes) > 1:
            rows.sort(key=_FIRST)  # by item: its frame number first, never equal
        self._write_rows(rows)

    def _write_rows(self, rows: list[tuple[FastItem, Outcome | str]]) -> None:
        """The batch's frames in frame order, with write_decrypted's counts and notes."""
        # Measured hot loop (one iteration per ESP packet): the clean tunnel-mode case inline,
        # its records written together.
        mm, stats, stamped = self._mm, self.stats, self._stamped
        assert mm is not None
        stats.frames += len(rows)
        stats.esp += len(rows)
        clean: list[tuple[float, Octets, bytes]] = []
        made: list[Octets] = []
        head = stamped_ethernet
        for item, out in rows:
            start = item[5]
            if type(out) is tuple and out[0] == _IPPROTO_IPV4:
                # rebuild_frame for tunnel mode with IPv4 inside IPv4: the Ethernet header as it
                # was, then the inner packet (joined only as the records are written). The
                # time as the input's record header holds it when it can be copied (the
                # record made here), else converted from the frame's (by write_many).
                if stamped:
                    data = out[1]
                    n = 14 + len(data)
                    made += (head(mm[start - 16 : start - 8], n, n, mm[start : start + 14]), data)
                    continue
                clean.append((item[1], mm[start : start + 14], out[1]))
                continue
            self._write_clean(clean, made)
            if type(out) is str:
                stats.no_keys += 1
                stats.note(out)
                self._copy(item)
            elif isinstance(out, EspOpened):
                self._opened(item, out)
            elif isinstance(out, tuple):
                self._opened(item, EspOpened(True, None, out[0], out[1], None))
        self._write_clean(clean, made)

    def _write_clean(self, records: list[tuple[float, Octets, bytes]], made: list[Octets]) -> None:
        """Decrypted tunnel-mode frames, in order, then forgotten: ``records`` to make, or
        ``made`` (two parts each); one of them is empty."""
        count = len(records) + len(made) // 2
        if not count:
            return
        writer = self._writer
        if writer is None:
            writer = self._writer = PcapWriter(self._out, self._linktype)
        self.stats.replaced += count
        if writer.linktype != self._linktype:  # a pcapng whose first frame was of another type
            self.stats.other_linktype += count
        else:
            if records:
                writer.write_many(records)
            else:
                writer.write_made(made)
            self.stats.written += count
        records.clear()
        made.clear()

    def _opened(self, item: FastItem, opened: EspOpened) -> None:
        """``pcapwrite.handle_esp`` for a packet that is not clean tunnel-mode IPv4."""
        stats = self.stats
        if not opened.decrypted:
            if opened.problem and opened.problem.startswith(_NO_KEYS):
                stats.no_keys += 1
            else:
                stats.failed += 1
            stats.note(opened.problem)
            self._copy(item)
            return
        raw = self._raw(item)
        new = rebuild_frame(raw, None, opened)
        if new is None:
            self._write(raw.linktype, raw.ts, raw.data, raw.orig_len)
            return
        stats.replaced += 1
        self._write(raw.linktype, raw.ts, new, None)

    def _copy(self, item: FastItem) -> None:
        raw = self._raw(item)
        self._write(raw.linktype, raw.ts, raw.data, raw.orig_len)

    def _raw(self, item: FastItem) -> RawFrame:
        mm, record = self._mm, self._record
        assert mm is not None and record is not None
        start = item[5]
        _sec, _frac, incl, orig = record(mm, start - 16)
        return RawFrame(item[0], item[1], self._linktype, bytes(mm[start : start + incl]), orig)


def _size(path: str | os.PathLike[str]) -> int:
    """The capture's size: about what the output will be (0 when it cannot be told)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _general_form(out: Outcome) -> Outcome:
    """A clean outcome as the EspOpened the general path would hold."""
    if type(out) is tuple:
        return EspOpened(True, None, out[0], out[1], None)
    return out


def _in_order(lanes: list[Lane]) -> list[FastItem]:
    return sorted((it for lane in lanes for it in lane.items), key=itemgetter(0))


__all__ = ["write_decrypted_fast"]
