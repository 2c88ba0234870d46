"""``ikeview decrypt --jobs N``: the decrypted capture written by N processes, byte for byte the
file ``pcapwrite.write_decrypted`` writes in one pass.

The ranges are byte ranges of an uncompressed pcap. Each process writes the records of its
own range only, to a part file beside the output (range 0: the output's own temporary file);
the parts are then joined behind one pcap file header, in order, into the output (renamed
over it at the end, as the single pass does). Per-range statistics add up; the problem lines
are the first 20 distinct ones in capture order, as a single pass notes them.

On the batch path of a classic pcap nothing is located: each range is written from where its
first record is guessed to start (:func:`_decrypt_unlocated`). With keys that open no IKE (ESP
SA keys only) a range needs nothing from the frames before it; with keys that open IKE the
earlier ranges hand their other frames over as they meet them (``parhandoff``), with up to
``parhandoff.HANDOFF_JOBS`` processes. Elsewhere (more processes with such keys, the record
path, pcapng) the ranges are ``ikeview.parallel``'s, located first: every process reads every
frame that is not fast-path ESP, so it holds every key. On the batch path they are cut as the
unlocated ones are (``parsched``: the tail in smaller ranges handed to the process free
first, each part joined while the later ones are read).

Unlocated, a large capture written to a file is read in stripes instead, each placed straight
into the output with no part file (``parstripe``: where a part would wait for every range
before it, a stripe waits for about one stripe's reading time); smaller captures, and
devices or pipes, take the parts and their join.
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ikeview import parhandoff
from ikeview.directout import direct_output
from ikeview.dissectors.records import EspPacket, FrameError, IkeDatagram, RawFrame
from ikeview.dissectors.stream import Dissector, dissect
from ikeview.fastdecrypt import _DecryptSink
from ikeview.outfile import flushing, meanwhile, replacing
from ikeview.parallel import (
    NOT_SPLIT,
    job_count,
    load_keyring,
    note,
    opens_no_ike,
    pool,
    splittable,
)
from ikeview.parsched import Scheduler, chunk_cuts
from ikeview.parstripe import Handoffs, stripe_cuts, stripe_split, striped_target, write_striped
from ikeview.partjoin import PCAP_HEADER, Joiner, PieceWriter, append_parts
from ikeview.parunlocated import unlocated_split
from ikeview.pcapfile import BinaryOut, PcapWriter
from ikeview.pcapranges import Layout, open_map
from ikeview.pcapwrite import DecryptStats, handle_esp, handle_ike, write_decrypted
from ikeview.pipeline.correlate import Correlator
from ikeview.pipeline.decrypt import KeyringDecryptor
from ikeview.rangedecrypt import HandoffStripes, UnlocatedPart, walk_unlocated
from ikeview.rangesplit import Split, locate, locate_open
from ikeview.rangewalk import RangeLost

if TYPE_CHECKING:
    from ikeview.keys.model import KeyRing


def decrypt_range(
    split: Split,
    r: int,
    key_paths: Sequence[str],
    part: str,
    extra_ports: Sequence[int],
    fast: bool = False,
    keyring: KeyRing | None = None,
    *,
    to_output: bool = False,
    pieces: bool = False,
) -> DecryptStats:
    """Worker: write the records of range ``r`` to ``part`` (behind a file header, which the
    join drops); returns its statistics. ``fast``: through the batch path (``fastdecrypt``).
    ``keyring``: the keys, loaded already (else read from ``key_paths``). ``to_output``:
    ``part`` is the output's own file (range 0's), written around the page cache when large
    (``directout``); a part to be copied is not, as its copy would read it back from disk.
    ``pieces``: the part written in pieces the join takes as they are full
    (``partjoin.PieceWriter``)."""
    if keyring is None:
        from ikeview.keys.loader import load_keys

        keyring = load_keys([Path(p) for p in key_paths])
    out_as = (to_output, pieces)
    if fast:
        return _decrypt_range_fast(split, r, keyring, part, extra_ports, out_as)
    dec = KeyringDecryptor(keyring, keep_plaintext=True)
    corr = Correlator(dec)
    stats = DecryptStats()
    owns = split.owns(r)
    replacements: dict[int, bytes] = {}
    by_index: dict[int, RawFrame] = {}
    pending: list[RawFrame] = []
    w = split.walked[r]
    with (
        _part_out(part, w.end - w.start, *out_as) as out,
        open(split.name, "rb") as fh,
        open_map(split.name) as mm,
    ):
        # The output's link type is the capture's first frame's; frames of another (pcapng
        # interfaces may differ) are counted and left out, as the single pass does.
        linktype = split.lay.linktype
        writer = PcapWriter(out, linktype)

        def flush() -> None:
            for frame in pending:
                if not owns(frame.index):
                    continue
                stats.frames += 1
                if frame.linktype != linktype:
                    stats.other_linktype += 1
                    continue
                new = replacements.pop(frame.index, None)
                if new is None:
                    writer.write(frame.ts, frame.data, frame.orig_len)
                else:
                    writer.write(frame.ts, new)
                stats.written += 1
            pending.clear()

        def frames() -> Iterator[RawFrame]:
            for frame in split.frames_for(r, mm, fh.fileno()):
                flush()
                by_index.clear()
                by_index[frame.index] = frame
                pending.append(frame)
                yield frame

        for rec in dissect(frames(), extra_ports=extra_ports):
            if isinstance(rec, EspPacket):
                if owns(rec.flow.frame):
                    handle_esp(rec, dec, by_index, replacements, stats)
            elif isinstance(rec, IkeDatagram | FrameError):
                corr.feed(rec)
                if isinstance(rec, FrameError):
                    if owns(rec.frame):
                        stats.frame_error(rec)
                elif owns(rec.flow.frame):
                    handle_ike(rec, dec, by_index, replacements, stats)
                else:
                    dec.take_plaintext(rec.message.raw)
        flush()
    return stats


def _decrypt_range_fast(
    split: Split,
    r: int,
    keyring: KeyRing,
    part: str,
    extra_ports: Sequence[int],
    out_as: tuple[bool, bool] = (False, False),
) -> DecryptStats:
    """Range ``r`` through the batch path's walk and decrypting sink: its own frames written as
    ``fastdecrypt`` writes them; the other ranges' other frames (and, on a pcapng range, frames
    of the range itself the sink takes one by one) read for their keys only."""
    from ikeview.pipeline.fastwalk import walk_frames, walk_span

    lo, hi = split.bases[r], split.bases[r] + split.walked[r].frames

    class RangeSink(_DecryptSink):
        def _general(self, raw: RawFrame) -> None:
            if lo < raw.index <= hi:
                super()._general(raw)
                return
            # Another range's frame: its keys, as decrypt_range takes them; nothing written.
            for rec in self._run((raw,)):
                if isinstance(rec, IkeDatagram | FrameError):
                    self._corr.feed(rec)
                    if isinstance(rec, IkeDatagram):
                        self._dec.take_plaintext(rec.message.raw)

    dec = KeyringDecryptor(keyring, keep_plaintext=True)
    lay, w = split.lay, split.walked[r]
    fast_udp = not extra_ports
    with (
        _part_out(part, w.end - w.start, *out_as) as out,
        open(split.name, "rb") as fh,
        open_map(split.name) as mm,
    ):
        sink = RangeSink(Dissector(extra_ports=extra_ports), dec, out)
        # The output's link type is the capture's first frame's (the join keeps one header).
        sink._writer = PcapWriter(out, lay.linktype)
        if lay.ng:
            walk_frames(split.frames_for(r, mm, fh.fileno()), sink, fast_udp)
        else:
            for raw in split.other_frames(range(r), fh.fileno()):
                sink.frame(raw)
            span = (w.start, w.end, split.bases[r])
            if walk_span(mm, lay.size, (lay.endian, lay.scale), sink, fast_udp, span) is None:
                raise RangeLost(split.name)
            # The later ranges' frames could change keys only for what comes after this range:
            # nothing of them is read.
        sink.flush()
    return sink.stats


def write_decrypted_parallel(
    capture: str | os.PathLike[str],
    key_paths: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    extra_ports: Sequence[int] = (),
    jobs: int = 1,
    min_bytes: int | None = None,
    fast: bool = True,
) -> DecryptStats:
    """``write_decrypted(capture, keys, output)`` by ``jobs`` processes (same bytes);
    ``fast=False`` (or ``IKEVIEW_NO_FAST``) keeps to the record path."""
    from ikeview.pipeline.fastswitch import fast_allowed

    fast = fast_allowed(fast)
    name = os.fspath(capture)
    keys = [os.fspath(p) for p in key_paths]
    ports = tuple(extra_ports)
    jobs = job_count(jobs)

    def one_pass() -> DecryptStats:
        from ikeview.keys.loader import load_keys

        keyring = load_keys([Path(p) for p in keys])
        return write_decrypted(capture, keyring, output, extra_ports=ports, fast=fast)

    lay = splittable(name, jobs, min_bytes)
    if lay is None:
        return one_pass()
    try:
        stats = _decrypt_split(name, lay, jobs, keys, output, ports, fast)
    except (BrokenExecutor, OSError, struct.error, RangeLost, parhandoff.HandoffLost) as exc:
        # A worker that died (killed, out of memory), processes that could not be started, or
        # no room for the part files or the handoffs: the single pass says what is wrong, if
        # anything.
        note(f"--jobs {jobs}: {type(exc).__name__}; read in one process")
        stats = None
    return one_pass() if stats is None else stats


def _decrypt_split(
    name: str,
    lay: Layout,
    jobs: int,
    keys: list[str],
    output: str | os.PathLike[str],
    ports: tuple[int, ...],
    fast: bool,
) -> DecryptStats | None:
    # Loaded once, handed to every range.
    keyring = load_keyring(keys)
    with pool(jobs - 1) as ex:
        handoff = bool(ports) or keyring is None or not opens_no_ike(keyring)
        if (
            fast
            and not lay.ng
            and keyring is not None
            and (not handoff or jobs <= parhandoff.HANDOFF_JOBS)
        ):
            # Nothing located on the batch path of a classic pcap. With keys that open no IKE
            # (and no --ports) no range needs the frames before it; otherwise the earlier
            # ranges hand their other frames over as they go (``parhandoff``), with up to
            # HANDOFF_JOBS processes; with more they are located first.
            return _decrypt_unlocated(ex, name, lay, jobs, keyring, output, handoff, ports)
        if fast and not lay.ng:
            # Cut as the unlocated ranges are (``parsched``): the tail in smaller ranges,
            # handed to the process free first, each part joined while the later ones run.
            split = locate_open(name, lay, jobs, not ports, ex, chunk_cuts(lay, jobs))
        else:
            split = locate(name, lay, jobs, not ports, ex)
        if split is None or split.empty:
            if split is None:
                note(f"--jobs {jobs}: {NOT_SPLIT}; read in one process")
            return None
        results = _write_parts(
            ex,
            split,
            output,
            decrypt_range,
            lambda r, part: (keys, part, ports, fast, keyring),
            workers=jobs - 1,
        )
    return _merge_stats(results)


class _NotTiled(Exception):
    """Unlocated ranges that do not add up to one pass (see :func:`_decrypt_unlocated`)."""


def _write_parts(
    ex: Executor,
    split: Split,
    output: str | os.PathLike[str],
    task: Callable[..., Any],
    args: Callable[[int, str], tuple[Any, ...]],
    accept: Callable[[list[Any]], bool] = lambda _: True,
    workers: int | None = None,
) -> list[Any]:
    """``task(split, r, *args(r, part))`` for every range, writing range ``r`` to ``part``
    (range 0 here, the others in ``ex``'s ``workers`` processes, default one per range, and
    here once range 0 is done: ``parsched.Scheduler``), the parts joined into ``output`` in
    order; the tasks' results. When ``accept(results)`` is false ``output`` is left as it was
    (:class:`_NotTiled` raised)."""
    out_dir = os.path.dirname(os.path.abspath(os.fspath(output)))
    count, name = len(split.walked), split.name
    with (
        tempfile.TemporaryDirectory(prefix=".ikeview-parts-", dir=out_dir) as tmp,
        contextlib.ExitStack() as later,  # chores waited for once the output is in place
        replacing(output, inputs=[name]) as target,
    ):
        # Range 0 is written straight into the output (a fresh file beside it, renamed at
        # the end), behind the file header the join would write; the later ranges' parts
        # are appended as they are done (``partjoin``). A device or pipe gets every part in
        # turn, at the end.
        direct = target.is_file()
        parts = [os.path.join(tmp, f"part{r}") for r in range(count)]
        if direct:
            parts[0] = os.fspath(target)

        # Into the output's own file, a later range's part goes in pieces the join appends as
        # they are full (``partjoin``).
        def run(r: int) -> Any:
            return task(split, r, *args(r, parts[r]), pieces=direct)

        def submit(pool: Executor, r: int) -> Future[Any]:
            return pool.submit(task, split, r, *args(r, parts[r]), pieces=direct)

        expected = sum(w.end - w.start for w in split.walked[1:])
        # The rename waits for the whole file to be on disk: range 0's records and the parts
        # appended go there meanwhile (the helper thread starts once the workers are forked).
        with (
            Scheduler(ex, count, count - 1 if workers is None else workers, submit) as sched,
            _flushing(target) if direct else contextlib.nullcontext(),
        ):
            results = [task(split, 0, *args(0, parts[0]), to_output=direct)]
            joiner = Joiner(target, parts[1:], sched.slot, expected) if direct else None
            try:
                sched.help(run)
                results += sched.results()
            finally:
                if joiner is not None:
                    joiner.join()
            if not accept(results):
                raise _NotTiled  # ``replacing`` removes what was written
            if joiner is not None:
                joiner.check()
        if direct:
            _remove_dir(tmp)
        else:
            _join_whole(target, split.lay.linktype, parts)
            # Copied: removed while the output syncs (into a file the join removed each piece).
            later.enter_context(meanwhile(_remove, parts))
    return results


def _join_whole(target: Path, linktype: int, parts: list[str]) -> None:
    """A device or pipe: the file header, then every part whole, in order."""
    with open(target, "wb") as out:
        PcapWriter(out, linktype)
        out.flush()
        append_parts(target, [(p, PCAP_HEADER) for p in parts], out.fileno())


def _remove_dir(tmp: str) -> None:
    """The parts' directory, empty once the join removed each piece, removed before the output's
    rename: after it the helper that lets go of a replaced output frees that file's blocks
    (``outfile._let_go``), and a directory removal then waited 11-14 ms for the file system.
    Anything left in it (a range that failed) is for the directory's own cleanup."""
    with contextlib.suppress(OSError):
        os.rmdir(tmp)


def _open_part(part: str) -> BinaryIO:
    """A range's output opened for writing, emptied, but not truncated when it is empty
    already (the output's fresh temporary file, a new part). On ext4 a truncation to zero,
    even of an empty file, makes the file's close start writing its data to disk there and
    then (auto_da_alloc): measured, the first range's process, which writes into the output's
    own fresh file, lost ~0.06 s at the end of its range that way while the others ran on."""
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    try:
        if os.fstat(fd).st_size:
            os.ftruncate(fd, 0)
        return open(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


@contextlib.contextmanager
def _part_out(
    part: str, expected: int, to_output: bool, pieces: bool = False
) -> Iterator[BinaryOut]:
    """A range's output (:func:`_open_part`), written around the page cache when it is the
    output's own file and large (``directout.direct_output``); in pieces when ``pieces``
    (``partjoin.PieceWriter``: each named once complete, the last when the range is done)."""
    if pieces:
        piecewise = PieceWriter(part)
        try:
            yield piecewise
        except BaseException:
            piecewise.abandon()
            raise
        piecewise.close()
        return
    with _open_part(part) as out:
        if not to_output:
            yield out
            return
        with direct_output(out, expected) as writer:
            yield writer


@contextlib.contextmanager
def _flushing(path: Path) -> Iterator[None]:
    """``outfile.flushing`` on the file at ``path`` while the block runs: the first range's
    records go to disk while it is written and the parts are appended."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        with flushing(fd):
            yield
    finally:
        os.close(fd)


def _remove(paths: Sequence[str]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)


def decrypt_unlocated_range(
    split: Split,
    r: int,
    keyring: KeyRing,
    part: str,
    *,
    to_output: bool = False,
    pieces: bool = False,
) -> UnlocatedPart | None:
    """Worker: range ``r`` of an unlocated split written whole to ``part`` through the batch
    path; None when it cannot be walked from its guessed start (no record starts there, or
    damage: then the single pass reports it)."""
    w = split.walked[r]
    with _part_out(part, w.end - w.start, to_output, pieces) as out, open_map(split.name) as mm:
        return walk_unlocated(split, r, keyring, mm, out)


def decrypt_handoff_range(
    split: Split,
    r: int,
    keyring: KeyRing,
    part: str,
    paths: Sequence[str],
    grace: float,
    ports: tuple[int, ...] = (),
    *,
    to_output: bool = False,
    pieces: bool = False,
) -> UnlocatedPart | None:
    """Worker: range ``r`` of an unlocated split written whole to ``part`` through the batch
    path, its other frames handed over in ``paths[r]`` (but by the last range), the earlier
    ranges' taken from theirs (``parhandoff``): a process's run of stripes
    (``rangedecrypt.HandoffStripes``) of this one range. None when it cannot be walked from its
    guessed start, or its output could differ from the single pass's (keys given again to an
    SPI that had some: a range that opened that SPI's packets before reading every earlier
    frame could differ)."""
    w = split.walked[r]
    with (
        open(split.name, "rb") as fh,
        open_map(split.name) as mm,
        _part_out(part, w.end - w.start, to_output, pieces) as out,
    ):
        places = (lambda j: (paths[j], 0), len(paths))
        ranges = HandoffStripes(split, keyring, mm, fh.fileno(), places, grace, ports)
        return ranges.walk(r, out)


def _decrypt_unlocated(
    ex: Executor,
    name: str,
    lay: Layout,
    jobs: int,
    keyring: KeyRing,
    output: str | os.PathLike[str],
    handoff: bool = False,
    ports: tuple[int, ...] = (),
) -> DecryptStats | None:
    """Keys that open no IKE (``parallel.opens_no_ike``): no range's output depends on the
    frames before it (IKE frames are copied as they are; ESP keys are per SA), so each range is
    written at once from where its first record is guessed to start, as ``report`` reads such
    runs. ``handoff``: keys that open IKE, the ranges started the same way, one per process,
    each later one fed the earlier ones' other frames as they are met (``parhandoff``). The
    parts are joined only if every range ended where the next began, left its dissector idle
    at that edge, and, past the first, had no packet fail to decrypt (a range starts without
    the ESN state of the SAs before it: a wrap of the sequence numbers earlier in the file
    would fail there and not in one pass) and no undecodable frame (its problem line would name
    a frame counted from the range's start); else the capture is read in one pass. A large
    capture written to a file is cut into stripes placed straight into the output
    (``parstripe``), on the same conditions; a smaller one, or a device or pipe, into the
    ranges of ``parsched``, joined."""
    # Into a file: stripes placed straight into the output (``parstripe``).
    bounds = stripe_cuts(lay, jobs) if striped_target(output) else None
    if bounds is not None:
        split: Split | None = stripe_split(name, lay, bounds)
    else:
        split = unlocated_split(name, lay, jobs, chunked=True)
    if split is None:
        note(f"--jobs {jobs}: {NOT_SPLIT}; read in one process")
        return None
    count = len(split.walked)
    ends = [w.end for w in split.walked]

    def accept(results: list[UnlocatedPart | None]) -> bool:
        got = [res for res in results if res is not None]
        if len(got) < count or any(end != ends[r] for r, (_, end, _) in enumerate(got)):
            # A guess that was no record start, or damage: as when located ranges do not tile.
            note(f"--jobs {jobs}: {NOT_SPLIT}; read in one process")
            return False
        # A later range's failures and frame errors: see above, and its frame numbers count
        # from its own start. With handoffs the last range's flag also counts: it says whether
        # any SPI was given keys twice (see decrypt_handoff_range).
        later = [s.failed or s.frame_errors for s, _, _ in got[1:]]
        flags = [idle for _, _, idle in (got if handoff else got[:-1])]
        return all(flags) and not any(later)

    try:
        grace = parhandoff.GRACE
        if bounds is not None:
            how = (grace, ports) if handoff else None
            results = _write_striped(ex, split, jobs, keyring, output, accept, how)
        else:
            with parhandoff.handoff_files(count if handoff else 0) as paths:
                results = _write_parts(
                    ex,
                    split,
                    output,
                    decrypt_handoff_range if handoff else decrypt_unlocated_range,
                    (lambda r, part: (keyring, part, paths, grace, ports))
                    if handoff
                    else (lambda r, part: (keyring, part)),
                    accept,
                    jobs - 1,
                )
    except _NotTiled:
        return None
    return _merge_stats([res[0] for res in results if res is not None])


def _write_striped(
    ex: Executor,
    split: Split,
    jobs: int,
    keyring: KeyRing,
    output: str | os.PathLike[str],
    accept: Callable[[list[UnlocatedPart | None]], bool],
    handoffs: Handoffs | None,
) -> list[UnlocatedPart | None]:
    """Every range of ``split`` (its stripes) decrypted into ``output`` by ``parstripe``
    (``handoffs``: with keys that open IKE); what each gave back, in order. :class:`_NotTiled`,
    with ``output`` as it was, when they are not ``accept``-ed or a stripe could not be
    walked."""
    with replacing(output, inputs=[split.name]) as target:
        regular = target.is_file()
        got = write_striped(ex, split, jobs, keyring, target, handoffs) if regular else None
        results: list[UnlocatedPart | None] = [] if got is None else [r[1:] for r in got]
        if not accept(results):
            raise _NotTiled  # ``replacing`` removes what was written
    return results


def _merge_stats(parts: list[DecryptStats]) -> DecryptStats:
    total = DecryptStats()
    for s in parts:
        for name in ("frames", "written", "esp", "replaced", "failed", "no_keys"):
            setattr(total, name, getattr(total, name) + getattr(s, name))
        total.ike_replaced += s.ike_replaced
        total.other_linktype += s.other_linktype
        total.frame_errors += s.frame_errors
        total.damage = total.damage or s.damage
        for p in s.problems:
            total.note(p)
    return total


__all__ = ["decrypt_range", "write_decrypted_parallel"]
