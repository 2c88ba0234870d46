"""One range's decrypting walk on the batch path of ``decrypt -o --jobs`` (a classic pcap, its
ranges unlocated: ``parunlocated.unlocated_split``), and a process's run of stripes
(``parstripe``).

A stripe is a range read like any other, so with keys that open no IKE each stripe is walked
afresh (:class:`FreshStripes`): nothing of it depends on the frames before it. With keys that
open IKE a range needs what every frame before it made (``parhandoff``); a process reading many
stripes keeps one dissector, correlator and decryptor across its own (:class:`HandoffStripes`)
and, before each, is fed the other frames of the stripes the other processes took since its
last one, from their handoffs, by the rules of ``parhandoff.Relay`` (ESP of an SPI with keys
runs ahead; anything else waits for those frames, for ``parhandoff.GRACE`` seconds at most,
then the record headers are walked here). It reads each earlier frame once, in capture order,
as one range with handoffs does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from ikeview import parhandoff
from ikeview.dissectors.records import FrameError, IkeDatagram, RawFrame
from ikeview.dissectors.stream import Dissector
from ikeview.fastdecrypt import _DecryptSink
from ikeview.pcapfile import BinaryOut, PcapWriter
from ikeview.pcapranges import resync
from ikeview.pcapwrite import DecryptStats
from ikeview.pipeline.decrypt import KeyringDecryptor

if TYPE_CHECKING:
    import mmap

    from ikeview.keys.model import KeyRing
    from ikeview.rangesplit import Split

UnlocatedPart = tuple[DecryptStats, int, bool]
"""What an unlocated range gives back: its statistics, the offset its walk ended at, whether its
output can be part of one pass's (its dissector held nothing at its end and, with handoffs, no
SPI was given keys twice)."""


def walk_unlocated(
    split: Split,
    r: int,
    keyring: KeyRing,
    mm: mmap.mmap,
    out: BinaryOut,
    span: tuple[int, int] | None = None,
) -> UnlocatedPart | None:
    """Range ``r`` of an unlocated split (``mm`` maps the capture; ``span``: its start and end
    when the split has only the cuts, a stripe's) written to ``out``, behind a file header,
    through the batch path's decrypting sink (a part file, or a stripe's buffer); None when it
    cannot be walked from where its start was guessed."""
    from ikeview.pipeline.fastwalk import walk_span

    lay, w = split.lay, split.walked[r]
    start, end = (w.start, w.end) if span is None else span
    dissector = Dissector()
    sink = _DecryptSink(dissector, KeyringDecryptor(keyring, keep_plaintext=True), out)
    sink._writer = PcapWriter(out, lay.linktype)
    done = walk_span(mm, lay.size, (lay.endian, lay.scale), sink, True, (start, end, 0))
    if done is None:
        return None
    sink.flush()
    return sink.stats, done[2], dissector.idle()


class Guesses(Protocol):
    """Stripe starts guessed by any process, kept where every process finds them (the chain,
    ``parstripe.Chain``)."""

    def guessed(self, k: int) -> tuple[bool, int | None]:
        """Whether stripe ``k``'s start was guessed yet, and the guess."""

    def guess(self, k: int, start: int | None) -> None:
        """Stripe ``k``'s start as guessed (None: no record after its cut)."""


class StripeBounds:
    """Where each stripe begins and ends, guessed by each process as it needs them (the
    split has only the cuts: guessing the ~120 record starts of a 1M-packet capture beforehand
    took 13 ms of the first process's time before any stripe was read). The guess is
    ``pcapranges.resync``'s, so every process finds the same record for the same cut; with
    ``shared``, a start another process guessed already is taken from there (the start of the
    stripe after a process's own is the next stripe's too, and each guess cost ~0.3 ms)."""

    def __init__(self, split: Split, mm: mmap.mmap, shared: Guesses | None = None) -> None:
        self._split, self._mm, self._shared = split, mm, shared
        self._starts: dict[int, int | None] = {
            0: split.lay.first,
            len(split.walked): split.lay.size,
        }

    def span(self, k: int) -> tuple[int, int] | None:
        """Stripe ``k``'s start and end; None when a cut has no record after it, or the two
        guesses cross."""
        a, b = self._start(k), self._start(k + 1)
        if a is None or b is None or a > b:
            return None
        return a, b

    def _start(self, k: int) -> int | None:
        if k in self._starts:
            return self._starts[k]
        shared = self._shared
        known, start = shared.guessed(k) if shared is not None else (False, None)
        if not known:
            start = resync(self._mm, self._split.lay, self._split.walked[k].start)
            if shared is not None:
                shared.guess(k, start)
        self._starts[k] = start
        return start


def _checked(got: UnlocatedPart | None, span: tuple[int, int], cut: int) -> UnlocatedPart | None:
    """A stripe's result, None when its walk did not end where the next stripe begins; its end
    said as the split has it (the cut), so that the caller's tiling check holds."""
    if got is None or got[1] != span[1]:
        return None
    return got[0], cut, got[2]


class HandoffSink(_DecryptSink):
    """``fastdecrypt``'s sink for ranges of ``decrypt -o`` with handoffs: it also reads the
    earlier ranges' frames for their keys. Driven by a relay through ``parhandoff.relayed``, as
    ``report``'s range sink is."""

    def take_other(self, raw: RawFrame) -> None:
        """An earlier range's frame: read for its keys, nothing written or counted."""
        for rec in self._run((raw,)):
            if isinstance(rec, IkeDatagram | FrameError):
                self._corr.feed(rec)
                if isinstance(rec, IkeDatagram):
                    self._dec.take_plaintext(rec.message.raw)

    def restart(self, out: BinaryOut, linktype: int) -> None:
        """Another range's records to ``out`` (behind a file header), counted afresh."""
        self._out = out
        self._writer = PcapWriter(out, linktype)
        self.stats = DecryptStats()


class FreshStripes:
    """A process's stripes with keys that open no IKE: each walked on its own."""

    def __init__(
        self, split: Split, keyring: KeyRing, mm: mmap.mmap, shared: Guesses | None = None
    ) -> None:
        self._split, self._keyring, self._mm = split, keyring, mm
        self._bounds = StripeBounds(split, mm, shared)

    def walk(self, k: int, out: BinaryOut) -> UnlocatedPart | None:
        span = self._bounds.span(k)
        if span is None:
            return None
        got = walk_unlocated(self._split, k, self._keyring, self._mm, out, span)
        return _checked(got, span, self._split.walked[k].end)


HandoffPlaces = tuple[Callable[[int], tuple[str, int]], int]
"""Where each stripe's handoff is: a file and where the stripe's records begin in it (a range's
own file, from 0; a stripe's, in the handoff file of the process that took it); and how many
stripes hand over (all but the last)."""


class HandoffStripes:
    """A process's stripes with keys that open IKE (see the module doc): stripe ``k`` hands its
    other frames over where ``places`` says (but the last stripe), and reads those of the
    stripes between this process's last one and ``k`` from theirs."""

    def __init__(
        self,
        split: Split,
        keyring: KeyRing,
        mm: mmap.mmap,
        fd: int,
        places: HandoffPlaces,
        grace: float,
        ports: tuple[int, ...] = (),
        shared: Guesses | None = None,
    ) -> None:
        """``mm`` maps the capture and ``fd`` is open on it (for the walk of the rest);
        ``shared``: the stripe starts the processes guess (:class:`StripeBounds`)."""
        self._split, self._mm, self._fd = split, mm, fd
        self._where, self._handed = places
        self._grace = grace
        self._fast_udp = not ports  # extra ports may carry bare IKE: then ESP over IP only
        self._dissector = Dissector(extra_ports=ports)
        self._dec = KeyringDecryptor(keyring, keep_plaintext=True)
        self._relay = parhandoff.Relay(None, self._fast_udp)
        made = parhandoff.relayed(HandoffSink, self._relay, self._dec.esp_batch, self._dec)
        self._sink: HandoffSink = made(self._dissector, self._dec, _NOWHERE)
        self._relay.take_other = self._sink.take_other
        self._last = -1
        self._bounds = StripeBounds(split, mm, shared)
        self._earlier = parhandoff.Earlier([], [0], self._sink.take_other)
        self._rest = functools.partial(self._earlier.walk_rest, mm, split.lay, fd, self._fast_udp)

    def walk(self, k: int, out: BinaryOut) -> UnlocatedPart | None:
        """Stripe ``k`` (after every stripe this process read before) written to ``out``; None
        when it cannot be walked from its guessed start or could differ from one pass."""
        from ikeview.pipeline.fastwalk import walk_span

        split, relay, sink = self._split, self._relay, self._sink
        if self._earlier.broken:  # earlier frames that could not all be read: not one pass's
            return None
        lay, base = split.lay, parhandoff.base
        spans = [self._bounds.span(j) for j in range(self._last + 1, k + 1)]
        if any(span is None for span in spans):
            return None
        *between, mine = [span for span in spans if span is not None]
        relay.begin(parhandoff.Handoff(self._where(k)[0], base(k)) if k < self._handed else None)
        # The stripes the other processes took since this one's last: followed after whatever
        # of the earlier ones is still to come (nothing here waited for it yet).
        segments = []
        for j, (a, b) in enumerate(between, self._last + 1):
            path, at = self._where(j)
            segments.append((path, a, b, base(j), at))
        self._earlier.extend(segments)
        self._last = k
        relay.follow(self._earlier, self._rest, self._grace)
        sink.restart(out, lay.linktype)
        end = 0
        try:
            kind = (lay.endian, lay.scale)
            done = walk_span(self._mm, lay.size, kind, sink, self._fast_udp, (*mine, base(k)))
            if done is None:
                return None
            sink.flush()
            end = done[2]
        except parhandoff.Diverged:
            return None
        finally:
            relay.end(end)  # 0 when not read to its end: a later stripe stops waiting now
        last = k == len(split.walked) - 1
        idle = (last or self._dissector.idle()) and not self._dec.redefined
        return _checked((sink.stats, end, idle), mine, split.walked[k].end)


class _Nowhere:
    """An output for a sink before its first stripe: nothing is written to it."""

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


_NOWHERE = _Nowhere()

__all__ = ["FreshStripes", "HandoffSink", "HandoffStripes", "UnlocatedPart", "walk_unlocated"]
