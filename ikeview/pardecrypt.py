"""``ikeview decrypt --jobs N``: the decrypted capture written by N processes, byte for byte the
file ``pcapwrite.write_decrypted`` writes in one pass.

The ranges are ``ikeview.parallel``'s: every process reads all IKE (so it holds every key) and
writes the records of its own range only, to a part file beside the output; the parts are then
joined behind one pcap file header, in order, into the output (written to a temporary file and
renamed, as the single pass does). Per-range statistics add up; the problem lines are the first
20 distinct ones in capture order, as a single pass notes them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ikeview.dissectors.capture import CaptureReader
from ikeview.dissectors.records import EspPacket, FrameError, IkeDatagram, RawFrame
from ikeview.dissectors.stream import dissect
from ikeview.outfile import open_output
from ikeview.parallel import MIN_SPLIT_BYTES, _Range, bounds, data_size, job_count
from ikeview.pcapfile import PcapWriter
from ikeview.pcapwrite import DecryptStats, handle_esp, handle_ike, write_decrypted
from ikeview.pipeline.correlate import Correlator
from ikeview.pipeline.decrypt import KeyringDecryptor

_LINKTYPE_ETHERNET = 1
_PCAP_HEADER = 24


def decrypt_range(
    capture: str,
    key_paths: Sequence[str],
    part: str,
    extra_ports: Sequence[int],
    start: int,
    end: int | None,
) -> tuple[DecryptStats, int | None]:
    """Worker: write the records of one range to ``part`` (behind a file header); returns its
    statistics and the link type of the capture's first frame (None for an empty capture)."""
    from ikeview.keys.loader import load_keys

    dec = KeyringDecryptor(load_keys([Path(p) for p in key_paths]), keep_plaintext=True)
    corr = Correlator(dec)
    stats = DecryptStats()
    rng = _Range(start, end)
    replacements: dict[int, bytes] = {}
    by_index: dict[int, RawFrame] = {}
    pending: list[RawFrame] = []
    with open(part, "wb") as out:
        # Each part starts with a file header (PcapWriter writes one); the join drops it.
        body: list[PcapWriter] = []

        def flush() -> None:
            for frame in pending:
                if not rng.owns(frame.index):
                    continue
                if not body:
                    body.append(PcapWriter(out, rng.first_linktype))
                stats.frames += 1
                if frame.linktype != body[0].linktype:
                    stats.other_linktype += 1
                    continue
                new = replacements.pop(frame.index, None)
                if new is None:
                    body[0].write(frame.ts, frame.data, frame.orig_len)
                else:
                    body[0].write(frame.ts, new)
                stats.written += 1
            pending.clear()

        def frames() -> Iterator[RawFrame]:
            for frame in rng.frames(CaptureReader(capture), not extra_ports):
                flush()
                by_index.clear()
                by_index[frame.index] = frame
                pending.append(frame)
                yield frame

        for rec in dissect(frames(), extra_ports=extra_ports):
            if isinstance(rec, EspPacket):
                if rng.owns(rec.flow.frame):
                    handle_esp(rec, dec, by_index, replacements, stats)
            elif isinstance(rec, IkeDatagram | FrameError):
                corr.feed(rec)
                if isinstance(rec, IkeDatagram):
                    if rng.owns(rec.flow.frame):
                        handle_ike(rec, dec, by_index, replacements, stats)
                    else:
                        dec.take_plaintext(rec.message.raw)
        flush()
    # A range never skips a frame of its own, so ``stats.frames`` counts exactly its frames.
    return stats, rng.first_linktype


def write_decrypted_parallel(
    capture: str | os.PathLike[str],
    key_paths: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    extra_ports: Sequence[int] = (),
    jobs: int = 1,
    min_bytes: int | None = None,
) -> DecryptStats:
    """``write_decrypted(capture, keys, output)`` by ``jobs`` processes (same bytes)."""
    name = os.fspath(capture)
    keys = [os.fspath(p) for p in key_paths]
    ports = tuple(extra_ports)
    jobs = job_count(jobs)
    size = os.path.getsize(name) if os.path.isfile(name) else 0
    if jobs <= 1 or size < max(MIN_SPLIT_BYTES if min_bytes is None else min_bytes, 1):
        from ikeview.keys.loader import load_keys

        return write_decrypted(
            capture, load_keys([Path(p) for p in keys]), output, extra_ports=ports
        )
    cuts = [0, *bounds(data_size(name), jobs)]
    ends: list[int | None] = [*cuts[1:], None]
    out_dir = os.path.dirname(os.path.abspath(os.fspath(output)))
    with tempfile.TemporaryDirectory(prefix=".ikeview-parts-", dir=out_dir) as tmp:
        parts = [os.path.join(tmp, f"part{r}") for r in range(jobs)]
        with ProcessPoolExecutor(max_workers=jobs - 1) as pool:
            futures = [
                pool.submit(decrypt_range, name, keys, parts[r], ports, cuts[r], ends[r])
                for r in range(1, jobs)
            ]
            results = [decrypt_range(name, keys, parts[0], ports, cuts[0], ends[0])]
            results += [f.result() for f in futures]
        linktype = next((lt for _, lt in results if lt is not None), _LINKTYPE_ETHERNET)
        with open_output(output, "wb", inputs=[capture]) as out:
            PcapWriter(out, linktype)
            for part in parts:
                with open(part, "rb") as fh:
                    fh.seek(_PCAP_HEADER)  # past the part's own file header (if any)
                    shutil.copyfileobj(fh, out, 1 << 20)
    return _merge_stats([s for s, _ in results])


def _merge_stats(parts: list[DecryptStats]) -> DecryptStats:
    total = DecryptStats()
    for s in parts:
        for name in ("frames", "written", "esp", "replaced", "failed", "no_keys"):
            setattr(total, name, getattr(total, name) + getattr(s, name))
        total.ike_replaced += s.ike_replaced
        total.other_linktype += s.other_linktype
        for p in s.problems:
            total.note(p)
    return total


__all__ = ["decrypt_range", "write_decrypted_parallel"]
