"""Lazy capture-file reader: pcap and pcapng, optionally gzip-compressed, into RawFrame tuples.

Reading and dissecting stay separate: :class:`CaptureReader` only cuts the file into frames
(index, time, link type, bytes, original length); :mod:`ikeview.dissectors.stream` decodes them.
The file is read in large chunks and frames are sliced out of the chunk, so memory stays flat
however long the capture is.

A damaged file never raises once its header was accepted: everything up to the damage is
yielded, then iteration stops and :attr:`CaptureReader.stats` says what was wrong and where.
A file that is not a capture at all raises :class:`CaptureError` when it is opened.
"""

from __future__ import annotations

import bisect
import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, cast

from ikeview.dissectors.records import RawFrame

if TYPE_CHECKING:
    import gzip

_CHUNK = 1 << 20
"""Bytes read from the file at a time."""
_MAX_FRAME = 1 << 24
"""A captured length above this (16 MiB) can only be a corrupt record header."""

_GZIP_MAGIC = b"\x1f\x8b"
_SEEK_INTERFACES = 256
"""pcapng interfaces up to which a checkpoint is recorded: each holds a copy of the list, so a
hostile file of interface blocks would otherwise cost memory growing with its square."""

_MAX_RATIO = 200
"""Decompressed bytes per compressed byte a gzip capture may reach once past ``_RATIO_FLOOR``.
Real captures compress 2:1 to 20:1; deflate cannot exceed about 1032:1, which only runs of one
repeated block reach: a decompression bomb."""
_RATIO_FLOOR = 16 << 20
"""Decompressed bytes read before the ratio is checked (small files may compress very well)."""
_ZERO_RUN = 16
"""Consecutive all-zero pcap record headers (time 0, length 0) taken as a body of padding."""
_MAX_TS = 253_402_300_799.0
"""Start of the last second of 9999-12-31 (a float cannot hold its microseconds exactly): later
time stamps cannot be shown as dates, so they are clamped to it."""

# pcap (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/ section 4): the magic number
# written in the writer's byte order says both the byte order and the time-stamp unit.
_PCAP_MAGIC: dict[bytes, tuple[str, float, str]] = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6, "pcap"),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6, "pcap"),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9, "pcap-ns"),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9, "pcap-ns"),
}
PCAP_KINDS: dict[bytes, tuple[str, float]] = {
    magic: (order, unit) for magic, (order, unit, _name) in _PCAP_MAGIC.items()
}
"""Classic pcap magic -> (struct byte order, seconds per fraction unit): for the readers that
walk a mapped file in place (``ikeview.pcapranges``, ``ikeview.pipeline.fastwalk``)."""
# draft-ietf-opsawg-pcap section 4: File Header, 24 octets:
#   Magic(4) Major(2) Minor(2) Reserved1(4) Reserved2(4) SnapLen(4) LinkType+FCS(4)
# section 5: Packet Record header, 16 octets: Timestamp sec(4) frac(4) CapLen(4) OrigLen(4)
_PCAP_HDR_LEN = 24
_PCAP_REC_LEN = 16

# pcapng (draft-ietf-opsawg-pcapng section 3.1): every block is
#   Block Type(4) Block Total Length(4) Body(...) Block Total Length(4)
_NG_SHB = 0x0A0D0D0A
_NG_IDB = 0x00000001
_NG_OPB = 0x00000002  # obsolete Packet Block (appendix A)
_NG_SPB = 0x00000003
_NG_EPB = 0x00000006
_NG_SHB_MAGIC = b"\x0a\x0d\x0d\x0a"
_NG_BOM = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}
# section 4.2 IDB option codes
_OPT_END = 0
_OPT_IF_TSRESOL = 9
_OPT_IF_TSOFFSET = 14


class CaptureError(Exception):
    """The file cannot be read as a capture at all (missing, empty, unknown format).

    ``path`` names the file and ``reason`` what is wrong; ``str()`` gives both.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(slots=True)
class CaptureStats:
    """What the reader saw; filled in while iterating (not frozen: it is a running tally)."""

    format: str = ""
    """"pcap", "pcap-ns" or "pcapng", with "+gzip" when the file was compressed."""
    frames: int = 0
    """Packet records yielded so far."""
    truncated: bool = False
    """True when the file ended inside a record or a record was corrupt."""
    note: str | None = None
    """When ``truncated``: what was wrong and at which file offset (of the uncompressed data)."""
    damage_offset: int = -1
    """When ``truncated``: uncompressed file offset of the damaged record, else -1."""
    skipped_blocks: int = 0
    """pcapng blocks that are neither packets nor headers (statistics, name resolution, ...)."""
    clamped_times: int = 0
    """Frames whose time stamp lay before 1970 or after 9999 (shown as the nearest limit)."""


@dataclass(slots=True)
class _Interface:
    """One pcapng interface: its link type and how to turn a raw time stamp into seconds."""

    linktype: int
    divisor: int
    offset: int


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A place in an uncompressed capture file where reading can start again: a record (pcap)
    or block (pcapng) boundary, with what a reader must know there."""

    frames_before: int
    """Frames in the file before ``offset``; the record there is frame ``frames_before + 1``."""
    offset: int
    """File offset of the record or block."""
    endian: str = "<"
    """pcapng: byte order of the section the offset lies in."""
    interfaces: tuple[_Interface, ...] = ()
    """pcapng: the section's interfaces described before ``offset``."""


@dataclass(slots=True)
class SeekTable:
    """Checkpoints of one capture file, recorded while it was read, so that one frame can be
    read again without walking the file from its start (the TUI's packet hex).

    One checkpoint per read chunk (1 MiB), taken when the chunk is read, so the per-frame loop
    pays nothing and memory is one small record per MiB of capture; finding a frame then reads
    at most about one chunk. Only plain files get one: a gzip stream cannot seek.
    """

    size: int
    """Size of the file when it was read; another size means another file (nothing is used)."""
    mtime_ns: int
    """Modification time of the file when it was read, likewise."""
    points: list[Checkpoint] = field(default_factory=list)
    """In file order."""

    def before(self, frame: int) -> Checkpoint | None:
        """The last checkpoint at or before frame ``frame`` (None: read from the start)."""
        i = bisect.bisect_left(self.points, frame, key=lambda c: c.frames_before + 1)
        if i < len(self.points) and self.points[i].frames_before + 1 == frame:
            return self.points[i]
        return self.points[i - 1] if i else None

    def fits(self, path: str | os.PathLike[str]) -> bool:
        """True when ``path`` is still the file the table was made from (same size and time)."""
        try:
            st = os.stat(path)
        except OSError:
            return False
        return st.st_size == self.size and st.st_mtime_ns == self.mtime_ns


class _Counted:
    """A binary file that counts the bytes read from it: the compressed bytes a gzip stream
    consumed, on a pipe too (where there is no tell())."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.count += len(data)
        return data

    def close(self) -> None:
        self._raw.close()


class CaptureReader:
    """Iterate a capture file lazily; ``stats`` says how reading went.

    The constructor reads and checks the file header (raising :class:`CaptureError`);
    iterating yields :class:`RawFrame` tuples and closes the file at the end. Reading a plain
    file fills ``seek_table``; given one of its checkpoints as ``start``, a reader of the same
    file begins there instead of at the first frame.
    """

    def __init__(self, path: str | os.PathLike[str], start: Checkpoint | None = None) -> None:
        self.path = os.fspath(path)
        self.stats = CaptureStats()
        try:
            # A BufferedReader (it has peek()), closed by __iter__/close().
            raw = open(self.path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise CaptureError(self.path, f"cannot open: {exc.strerror or exc}") from exc
        self._file: BinaryIO = raw
        self._raw = raw
        self._out_bytes = 0
        self._counted: _Counted | None = None
        try:
            # peek, not read and seek back: a pipe, a FIFO or /dev/stdin cannot seek.
            gz = ""
            if raw.peek(2)[:2] == _GZIP_MAGIC:
                import gzip  # only for a compressed file (~1 ms of start-up otherwise)

                self._counted = _Counted(raw)
                # typeshed wants a seek() on fileobj; _Counted has none on purpose (a pipe
                # cannot seek) and gzip only seeks when asked to rewind, which we never do.
                self._file = gzip.GzipFile(fileobj=self._counted, mode="rb")  # type: ignore[call-overload]  # no seek()
                gz = "+gzip"
            self._head = self._safe_read(_PCAP_HDR_LEN)
            if not self._head and self.stats.truncated:
                raise CaptureError(self.path, f"gzip file that cannot be read: {self.stats.note}")
            self._kind = self._check_header(self._head)
            self.stats.format = self._kind + gz
            self.seek_table = self._table(start)
            self._start = start
        except BaseException:
            self.close()
            raise

    def _table(self, start: Checkpoint | None) -> SeekTable | None:
        """A fresh table for a plain regular file read from its start; with ``start``, seek
        there (a gzip stream or a pipe cannot: CaptureError)."""
        st = os.fstat(self._raw.fileno())
        plain = self._counted is None and stat.S_ISREG(st.st_mode)
        if start is None:
            return SeekTable(st.st_size, st.st_mtime_ns) if plain else None
        if not plain or not 0 <= start.offset <= st.st_size:
            raise CaptureError(self.path, "cannot start reading in the middle of this file")
        self._raw.seek(start.offset)
        return None

    def _safe_read(self, n: int) -> bytes:
        """Read up to n bytes (fewer only at the end); damage in a gzip stream ends the data
        instead of raising. Compressed input is read in small steps (read1) so that a cut
        loses as little as possible of what was decompressed before it."""
        if self._counted is None:  # not compressed: _file is the plain file
            return self._file.read(n)
        import zlib  # loaded with gzip

        f = cast("gzip.GzipFile", self._file)
        if self._out_bytes > _RATIO_FLOOR and self._bomb():
            return b""
        parts: list[bytes] = []
        got = 0
        while got < n:
            try:
                part = f.read1(n - got)
            except (EOFError, OSError, zlib.error) as exc:
                if not self.stats.truncated:
                    self.stats.truncated = True
                    self.stats.note = f"compressed data is damaged or cut short ({exc})"
                break
            if not part:
                break
            parts.append(part)
            got += len(part)
        self._out_bytes += got
        return b"".join(parts)

    def _bomb(self) -> bool:
        """True (and the stats say so) once the data has expanded more than ``_MAX_RATIO``-fold:
        reading stops there, so memory and time stay bounded by the compressed size."""
        used = max(self._counted.count if self._counted else 0, 1)
        if self._out_bytes <= _MAX_RATIO * used:
            return False
        self.stats.truncated = True
        self.stats.note = (
            f"decompression bomb: {used} compressed bytes expanded to {self._out_bytes} "
            f"(more than {_MAX_RATIO}:1)"
        )
        return True

    def _check_header(self, head: bytes) -> str:
        if not head:
            raise CaptureError(self.path, "empty file, not a pcap or pcapng capture")
        magic = head[:4]
        if magic in _PCAP_MAGIC:
            if len(head) < _PCAP_HDR_LEN:
                raise CaptureError(
                    self.path, f"pcap file header cut short ({len(head)} of 24 bytes)"
                )
            return _PCAP_MAGIC[magic][2]
        if magic == _NG_SHB_MAGIC:
            if len(head) < 12 or head[8:12] not in _NG_BOM:
                raise CaptureError(self.path, "pcapng section header without a byte-order magic")
            return "pcapng"
        raise CaptureError(
            self.path,
            f"not a pcap or pcapng capture (it starts with {magic.hex() or 'nothing'}; "
            "expected a1b2c3d4, a1b23c4d or 0a0d0d0a, optionally gzip-compressed)",
        )

    @property
    def linktype(self) -> int | None:
        """Link type of a pcap file; None for pcapng (each interface has its own)."""
        if self._kind == "pcapng":
            return None
        endian = _PCAP_MAGIC[self._head[:4]][0]
        return struct.unpack_from(endian + "I", self._head, 20)[0] & 0xFFFF

    @property
    def size(self) -> int:
        """Size of the file on disk in bytes (compressed size for gzip)."""
        return os.path.getsize(self.path)

    def position(self) -> int:
        """Bytes of the file on disk consumed so far (compressed bytes for gzip), for progress
        display; it runs ahead of the frames yielded by at most one read chunk (1 MiB)."""
        raw = self._raw
        try:
            return self.size if raw.closed else raw.tell()
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        """Close the file (iteration does this itself when it ends)."""
        self._file.close()
        self._raw.close()

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[RawFrame]:
        # The generator itself, not a wrapper around it: one generator hop less per frame.
        return self._pcapng() if self._kind == "pcapng" else self._pcap()

    def _damage(self, offset: int, note: str) -> None:
        stats = self.stats
        earlier = f" ({stats.note})" if stats.note else ""
        stats.truncated = True
        stats.damage_offset = offset
        stats.note = f"{note} at file offset {offset}; reading stopped there{earlier}"

    def _pcap(self) -> Iterator[RawFrame]:
        try:
            endian, scale, _ = _PCAP_MAGIC[self._head[:4]]
            linktype = struct.unpack_from(endian + "I", self._head, 20)[0] & 0xFFFF
            unpack = struct.Struct(endian + "IIII").unpack_from
            # tuple.__new__ directly: RawFrame's own __new__ is Python code, this is C.
            new_frame = tuple.__new__
            max_frame = _MAX_FRAME
            stats = self.stats
            read = self._safe_read
            # base: the file offset of buf[0]; index: frames before it.
            buf, base, index, marks = self._begin(self._head[_PCAP_HDR_LEN:], _PCAP_HDR_LEN)
            pos = 0
            zeros = 0  # consecutive all-zero record headers
            while True:
                n = len(buf)
                while pos + 16 <= n:  # 16: _PCAP_REC_LEN, a literal in the hot loop
                    sec, frac, incl, orig = unpack(buf, pos)
                    if incl > max_frame:
                        stats.frames = index
                        self._damage(base + pos, f"frame {index + 1}: impossible length {incl}")
                        return
                    if not (incl or sec or frac or orig):
                        zeros += 1
                        if zeros >= _ZERO_RUN:
                            stats.frames = index
                            start = base + pos - 16 * (_ZERO_RUN - 1)
                            self._damage(start, "the rest of the capture is zero bytes (padding)")
                            return
                    else:
                        zeros = 0
                    end = pos + 16 + incl
                    if end > n:
                        break
                    index += 1
                    ts = sec + frac * scale
                    if ts > _MAX_TS:  # pcap-ns: 0xffffffff.999999999 is past 2106, not 9999
                        ts = self._clamp(ts)
                    yield new_frame(RawFrame, (index, ts, linktype, buf[pos + 16 : end], orig))
                    pos = end
                stats.frames = index
                chunk = read(_CHUNK)
                if not chunk:
                    if pos < n:
                        self._damage(
                            base + pos,
                            f"file ends inside frame {index + 1} ({n - pos} bytes of its record)",
                        )
                    elif stats.truncated and stats.damage_offset < 0:
                        stats.damage_offset = base + pos
                    return
                base += pos
                buf = buf[pos:] + chunk
                pos = 0
                if marks is not None:  # once a chunk: the per-frame loop pays nothing
                    marks.append(Checkpoint(index, base))

        finally:
            self.close()

    def _begin(self, buf: bytes, base: int) -> tuple[bytes, int, int, list[Checkpoint] | None]:
        """Where a frame loop starts: the bytes in hand (``buf`` at file offset ``base`` from
        the start, nothing at the checkpoint's offset), the frames before them, and the list
        its checkpoints go to (None when the file cannot seek or reading began mid-file)."""
        marks = self.seek_table.points if self.seek_table is not None else None
        if self._start is None:
            return buf, base, 0, marks
        return b"", self._start.offset, self._start.frames_before, marks

    def _pcapng(self) -> Iterator[RawFrame]:
        try:
            stats = self.stats
            read = self._safe_read
            buf, base, index, marks = self._begin(self._head, 0)
            pos = 0
            endian = "<"
            ifaces: list[_Interface] = []
            if self._start is not None:
                endian, ifaces = self._start.endian, list(self._start.interfaces)
            u32 = struct.Struct(endian + "I").unpack_from
            epb = struct.Struct(endian + "IIIII").unpack_from
            while True:
                n = len(buf)
                while pos + 12 <= n:
                    btype = buf[pos : pos + 4]
                    if btype == _NG_SHB_MAGIC:
                        bom = buf[pos + 8 : pos + 12]
                        if bom not in _NG_BOM:
                            self._damage(base + pos, "section header with a bad byte-order magic")
                            return
                        endian = _NG_BOM[bom]
                        u32 = struct.Struct(endian + "I").unpack_from
                        epb = struct.Struct(endian + "IIIII").unpack_from
                        ifaces = []
                    blen = u32(buf, pos + 4)[0]
                    if not any(buf[pos : pos + 12]):
                        self._damage(base + pos, "the rest of the capture is zero bytes (padding)")
                        return
                    if blen < 12 or blen & 3 or blen > _MAX_FRAME:
                        self._damage(base + pos, f"block with impossible length {blen}")
                        return
                    end = pos + blen
                    if end > n:
                        break
                    btype_n = u32(buf, pos)[0]
                    if btype_n == _NG_EPB:
                        if blen < 32:
                            self._damage(base + pos, f"enhanced packet block of only {blen} bytes")
                            return
                        iface, tsh, tsl, caplen, orig = epb(buf, pos + 8)
                        if 28 + caplen > blen - 4:
                            self._damage(base + pos, f"packet length {caplen} overruns its block")
                            return
                        index += 1
                        data = buf[pos + 28 : pos + 28 + caplen]
                        if iface < len(ifaces):
                            i = ifaces[iface]
                            ts = self._time((tsh << 32) | tsl, i.divisor, i.offset)
                            yield RawFrame(index, ts, i.linktype, data, orig)
                        else:
                            ts = self._time((tsh << 32) | tsl, 1_000_000, 0)
                            yield RawFrame(index, ts, -1 - iface, data, orig)
                    elif btype_n == _NG_SPB:
                        orig = u32(buf, pos + 8)[0]
                        caplen = min(orig, blen - 16)
                        index += 1
                        lt = ifaces[0].linktype if ifaces else -1
                        yield RawFrame(index, 0.0, lt, buf[pos + 12 : pos + 12 + caplen], orig)
                    elif btype_n == _NG_IDB:
                        ifaces.append(self._idb(buf, pos, blen, endian))
                    elif btype_n == _NG_OPB:
                        if blen < 32:
                            self._damage(base + pos, f"packet block of only {blen} bytes")
                            return
                        iface = struct.unpack_from(endian + "H", buf, pos + 8)[0]
                        _, tsh, tsl, caplen, orig = epb(buf, pos + 8)
                        caplen = min(caplen, blen - 32)
                        index += 1
                        data = buf[pos + 28 : pos + 28 + caplen]
                        if iface < len(ifaces):
                            i = ifaces[iface]
                            ts = self._time((tsh << 32) | tsl, i.divisor, i.offset)
                            yield RawFrame(index, ts, i.linktype, data, orig)
                        else:
                            ts = self._time((tsh << 32) | tsl, 1_000_000, 0)
                            yield RawFrame(index, ts, -1 - iface, data, orig)
                    elif btype_n != _NG_SHB:
                        stats.skipped_blocks += 1
                    pos = end
                stats.frames = index
                chunk = read(_CHUNK)
                if not chunk:
                    if pos < n:
                        self._damage(
                            base + pos,
                            f"file ends inside a block ({n - pos} bytes of it) after frame {index}",
                        )
                    elif stats.truncated and stats.damage_offset < 0:
                        stats.damage_offset = base + pos
                    return
                base += pos
                buf = buf[pos:] + chunk
                pos = 0
                if marks is not None and len(ifaces) <= _SEEK_INTERFACES:
                    marks.append(Checkpoint(index, base, endian, tuple(ifaces)))

        finally:
            self.close()

    def _clamp(self, ts: float) -> float:
        """A time stamp outside 1970..9999 (hostile or broken writer): the nearest limit."""
        self.stats.clamped_times += 1
        return 0.0 if ts < 0 else _MAX_TS

    def _time(self, raw: int, divisor: int, offset: int) -> float:
        """pcapng 4.6: raw units / if_tsresol + if_tsoffset seconds, clamped to 1970..9999.
        Integer arithmetic first: an offset of 2**62 must not overflow a float conversion."""
        whole, frac = divmod(raw, divisor)
        secs = whole + offset
        if 0 <= secs <= _MAX_TS:
            return secs + frac / divisor
        return self._clamp(float(secs))

    @staticmethod
    def _idb(buf: bytes, pos: int, blen: int, endian: str) -> _Interface:
        """Interface Description Block (pcapng section 4.2): LinkType(2) Reserved(2)
        SnapLen(4) then options; if_tsresol and if_tsoffset set the time-stamp scale."""
        linktype = struct.unpack_from(endian + "H", buf, pos + 8)[0]
        divisor = 1_000_000
        offset = 0
        opt = pos + 16
        stop = pos + blen - 4
        while opt + 4 <= stop:
            code, olen = struct.unpack_from(endian + "HH", buf, opt)
            if code == _OPT_END:
                break
            val = opt + 4
            if val + olen > stop:
                break
            if code == _OPT_IF_TSRESOL and olen >= 1:
                res = buf[val]
                # Most significant bit set: a negative power of two, else of ten. Capped at
                # 10**-18 / 2**-64: finer units exist nowhere and would only slow the division.
                divisor = 1 << min(res & 0x7F, 64) if res & 0x80 else 10 ** min(res, 18)
            elif code == _OPT_IF_TSOFFSET and olen >= 8:
                offset = struct.unpack_from(endian + "q", buf, val)[0]
            opt = val + ((olen + 3) & ~3)
        return _Interface(linktype, divisor, offset)


def read_capture(path: str | os.PathLike[str], start: Checkpoint | None = None) -> CaptureReader:
    """Open a pcap/pcapng file (plain or gzip) for lazy reading; raises CaptureError if unusable.
    ``start``: a checkpoint of this file's ``seek_table`` to begin at (plain files only)."""
    return CaptureReader(path, start)
