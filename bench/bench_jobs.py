"""``--jobs N`` against ``--jobs 1``: wall and CPU time of each command, output compared byte for
byte, at one or more capture sizes, with the load average beside every figure.

Captures: make_capture.py's mix (1k IKE per 1M packets, mostly ESP, no keys) for summary,
report and export; bench_decrypt_file.py's AES-GCM ESP with its ``[[esp]]`` keys for report --keys
and decrypt -o (keys that open no IKE: ranges are read at once); make_lab_esp.py's real
strongSwan session with N ESP packets and its PSK and DH secret for the same two commands marked
"(PSK)" (keys that open IKE: ranges are read at once, the earlier ranges handing their other
frames over: ``ikeview.parhandoff``). Each command
runs ``--runs`` times per job count, alternating (1, N, 1, N...), and the fastest wall time of
each is kept (with its CPU time: user+sys of the process and its children). Bytecode is
compiled first, as an installed copy has it (see bench_decrypt_file.py). Each command's capture
is read once before its first run, so that no figure includes reading it from the disk: at 10M
(5 GB a capture) the first ``--jobs 1`` run of a capture the page cache had let go of read it
cold (``summary`` 18.6 s wall for 15.1 s of CPU, then 4.8 s with ``--jobs 2``: a "3.87x" that
was the disk's, 2026-12-05 21:43).

Wall time only shows the speed-up when the machine has a core free per process; on a shared
machine it says more about the neighbours. So the bench also prints, for report, report --keys
and decrypt -o, the *idle-machine bound*: each process's CPU time measured one after the other
in this process (analysing its range, then the fold), and one pass's (nothing is located on
the batch path of a classic pcap, as ``--jobs`` runs these captures: the "locating" column
stays 0); wall time with an idle core per process is about the slowest range plus the fold,
start-up (the ``startup`` line, 10 packets) aside. For ``decrypt -o`` the file is cut as
``--jobs`` cuts it: a large one into stripes placed straight into the output (``parstripe``),
each process's share an equal part of the time to read and place them all, with no fold; a
smaller one as ``parsched`` cuts it (the tail in smaller ranges, handed to the process free
first): its "ranges" are each process's share, its fold the last part's join;
with a PSK the same, each range run after the ones before it, so that it finds their handoffs
complete and never waits (what waiting costs is in the wall times above).

The machine itself may not give two processes two cores' worth: on this VM two copies of the
same pure-Python loop, started together, each took ~1.45x their time alone (no steal time
reported), so two independent processes got 1.4-1.56x of one. Each command's line therefore
also gives the *pair speed-up*: two ``--jobs 1`` runs of the same command started together
(separate outputs), against one alone: ``2 x alone / pair wall``. It is what two processes doing
this command's work got from the machine at that minute, with nothing shared between them, so
``--jobs 2``'s wall speed-up over it is the split's own efficiency (1.0: as good as two
independent processes).

Run: python bench/bench_jobs.py [packets ...] [--jobs N] [--bound N,...] [--runs R] [--keep DIR]
     [--bound-only]
     (default 200000, 2 jobs, 2 runs; --bound: also the bound for these numbers of processes;
     --keep: make the captures in DIR, or reuse those already there)
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_lab_esp  # noqa: E402
from bench_decrypt_file import run_child, write_capture, write_keys  # noqa: E402
from bench_esp_pipeline import SEED, Suite  # noqa: E402
from benchutil import compile_ikeview, ikeview_command  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("packets", nargs="*", type=int, default=[200_000])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--bound", default="", help="comma-separated process counts")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="directory for the captures")
    ap.add_argument("--bound-only", action="store_true", help="only the idle-machine bound")
    args = ap.parse_args()
    ikv = ikeview_command()
    compile_ikeview()
    print(f"load average before: {_load()}")
    with tempfile.TemporaryDirectory(prefix="ikv-jobs-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        small = work / "gcm10.pcap"
        if not small.exists():
            write_capture(Suite("AES-GCM-16-128", random.Random(SEED)), 10, small)
        # The commands first: this process stays small while it starts them (a child's peak
        # RSS counts what it inherits before exec).
        for n in [] if args.bound_only else args.packets:
            mix, gcm, keys = _captures(work, n)
            lab, lab_keys = _lab_capture(work, n)
            print(f"--- {n:,} packets: commands ---")
            wall, cpu, _ = run_child([ikv, "report", str(small), "--keys", str(keys), "--json"])
            print(f"startup (10 packets): {wall:.2f} s wall {cpu:.2f} s CPU  load {_load()}")
            _compare(ikv, work, mix, gcm, keys, args.jobs, args.runs, (lab, lab_keys))
        for n in args.packets:
            mix, gcm, keys = _captures(work, n)
            lab, lab_keys = _lab_capture(work, n)
            print(f"--- {n:,} packets: idle-machine bound ---")
            for jobs in [args.jobs, *(int(x) for x in args.bound.split(",") if x)]:
                bound_report(mix, [], jobs, "report")
                bound_report(gcm, [str(keys)], jobs, "report --keys (GCM)")
                bound_decrypt(gcm, str(keys), jobs, work / "bound.pcap")
                bound_report(lab, [str(lab_keys)], jobs, "report --keys (PSK)")
                bound_decrypt(lab, str(lab_keys), jobs, work / "bound.pcap", "decrypt -o (PSK)")
    print(f"load average after: {_load()}")


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _warm(path: Path) -> None:
    """``path`` read once, into the page cache (as far as memory allows)."""
    with path.open("rb", buffering=0) as fh:
        while fh.read(16 << 20):
            pass


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _captures(work: Path, n: int) -> tuple[Path, Path, Path]:
    mix, gcm, keys = work / f"mix{n}.pcap", work / f"gcm{n}.pcap", work / f"gcm{n}.toml"
    if not mix.exists():
        subprocess.run(
            [sys.executable, str(HERE / "make_capture.py"), "--packets", str(n), "--out", str(mix)],
            check=True,
            capture_output=True,
        )
    if not gcm.exists() or not keys.exists():
        suite = Suite("AES-GCM-16-128", random.Random(SEED))
        write_capture(suite, n, gcm)
        write_keys(suite, keys)
    return mix, gcm, keys


def _lab_capture(work: Path, n: int) -> tuple[Path, Path]:
    """make_lab_esp.py's capture with ``n`` generated ESP packets, and its keys file."""
    lab = work / f"lab{n}.pcap"
    if not lab.exists():
        make_lab_esp.write_capture(n, lab)
    return lab, make_lab_esp.KEYS


def _compare(
    ikv: str,
    work: Path,
    mix: Path,
    gcm: Path,
    keys: Path,
    jobs: int,
    runs: int,
    lab: tuple[Path, Path],
) -> None:
    k = ["--keys", str(keys)]
    lk = ["--keys", str(lab[1])]
    commands = {
        "summary": (["summary", str(mix), "--json"], None),
        "report": (["report", str(mix), "--json"], None),
        "export": (["export", str(mix), "--esp", "--csv", "{out}"], "{out}"),
        "report --keys (GCM)": (["report", str(gcm), *k, "--json"], None),
        "decrypt -o (GCM)": (["decrypt", str(gcm), *k, "-o", "{out}"], "{out}"),
        "report --keys (PSK)": (["report", str(lab[0]), *lk, "--json"], None),
        "decrypt -o (PSK)": (["decrypt", str(lab[0]), *lk, "-o", "{out}"], "{out}"),
    }
    for name, (argv, to_file) in commands.items():
        best: dict[int, tuple[float, float, float, str]] = {}
        outputs: dict[int, str] = {}
        pair = float("inf")
        command = functools.partial(_command, ikv, argv)
        _warm(Path(argv[1]))
        for _ in range(runs):
            for j in (1, jobs):  # alternating, so that all see the same neighbours
                out = work / f"out-{j}"
                got = run_child(command(out, j), stdout=None if to_file else out)
                if j not in best or got[0] < best[j][0]:
                    best[j] = (*got, _load().split(",")[0])
                outputs[j] = _digest(out)
                out.unlink()
            pair = min(pair, _pair_wall([work / "pair-a", work / "pair-b"], command, to_file))
        (w1, c1, r1, l1), (wn, cn, rn, ln) = best[1], best[jobs]
        same = "identical" if outputs[1] == outputs[jobs] else "DIFFERENT"
        machine = 2 * w1 / pair
        print(
            f"{name:20} jobs 1: {w1:5.2f} s wall {c1:5.2f} s CPU {r1:3.0f} MB (load {l1}) | "
            f"jobs {jobs}: {wn:5.2f} s wall {cn:5.2f} s CPU {rn:3.0f} MB (load {ln}) | "
            f"wall {w1 / wn:.2f}x, output {same} | pair speed-up {machine:.2f}x "
            f"(two jobs-1 runs at once: {pair:.2f} s), split efficiency {w1 / wn / machine:.2f}"
        )


def _command(ikv: str, argv: list[str], out: Path, jobs: int) -> list[str]:
    return [ikv, *(a.replace("{out}", str(out)) for a in argv), "--jobs", str(jobs)]


def _pair_wall(outs: list[Path], command: Callable[[Path, int], list[str]], to_file: Any) -> float:
    """Wall seconds of two ``--jobs 1`` runs of a command started together, each with its own
    output (the machine's pair speed-up, module doc)."""
    with contextlib.ExitStack() as files:
        sinks = [subprocess.DEVNULL if to_file else files.enter_context(o.open("wb")) for o in outs]
        t0 = time.perf_counter()
        procs = [
            subprocess.Popen(command(out, 1), stdout=sink, stderr=subprocess.DEVNULL)
            for out, sink in zip(outs, sinks, strict=True)
        ]
        codes = [p.wait() for p in procs]
        wall = time.perf_counter() - t0
    for out in outs:
        out.unlink(missing_ok=True)
    if any(codes):
        raise SystemExit(f"failed: {' '.join(command(outs[0], 1))}")
    return wall


def _cpu(f: Callable[..., Any], *a: Any, **k: Any) -> tuple[float, Any]:
    c0 = time.process_time()
    got = f(*a, **k)
    return time.process_time() - c0, got


def _located(capture: Path, jobs: int, chunked: bool = False) -> tuple[list[float], Any]:
    """Each process's locating CPU time, and the split (as ``rangesplit.plan`` cuts it;
    ``chunked``: the ranges cut as ``parsched.chunk_cuts`` cuts them, as ``decrypt`` does)."""
    from ikeview.parsched import chunk_cuts
    from ikeview.pcapranges import layout
    from ikeview.rangesplit import locate_pieces, plan, split_pieces

    lay = layout(str(capture))
    assert lay is not None and not lay.ng
    bounds, mine = plan(lay, jobs, chunk_cuts(lay, jobs) if chunked else None)
    timed = [_cpu(locate_pieces, str(capture), lay, mine[q], True) for q in range(jobs)]
    split = split_pieces(str(capture), lay, bounds, [p for _, ps in timed for p in ps])
    assert split is not None
    return [t for t, _ in timed], split


def _say(
    name: str, one: float, found: list[float], ranges: list[float], fold: float, n: int
) -> None:
    worst = max(found) + max(ranges) + fold
    print(
        f"{name:20} one pass {one:.2f} s CPU; locating {', '.join(f'{t:.2f}' for t in found)} s, "
        f"ranges {', '.join(f'{t:.2f}' for t in ranges)} s, fold {fold:.2f} s CPU; "
        f"idle-machine bound {one / worst:.2f}x with {n} processes (load {_load()})"
    )


def bound_report(capture: Path, keys: list[str], jobs: int, name: str) -> None:
    """``report``'s idle-machine bound (see the module doc), the way ``--jobs`` runs it."""
    from ikeview.diagnosis.engine import diagnose
    from ikeview.parallel import esp_range, last_range, load_keyring, opens_no_ike, run_range
    from ikeview.parhandoff import HANDOFF_JOBS
    from ikeview.pipeline.analyze import analyze

    keyring = load_keyring(keys)
    one = min(_cpu(analyze, str(capture), keyring)[0] for _ in range(2))
    handoff = keyring is not None and not opens_no_ike(keyring)
    if not handoff or jobs <= HANDOFF_JOBS:
        bound_unlocated(capture, jobs, name, one, keyring, handoff)
        return
    # More processes than hand frames over: ranges 0..N-2 located, the last one open.
    found, split = _located(capture, jobs)
    t_last, (part, frames, others) = _cpu(last_range, split, keyring, ())
    middle = [_cpu(esp_range, split, r, (), (), True, keyring) for r in range(1, jobs - 1)]
    t0, (corr, _) = _cpu(
        run_range, split, 0, (), (), False, True, keyring=keyring, tail=lambda _take: others
    )

    def fold() -> object:
        corr.absorb_esp([*(p for _, p in middle), part])
        return diagnose(corr.snapshot(frames=split.bases[-1] + frames, complete=True))

    t_fold, _ = _cpu(fold)
    _say(name, one, found, [t0, *(t for t, _ in middle), t_last], t_fold, jobs)


def bound_unlocated(
    capture: Path, jobs: int, name: str, one: float, keyring: Any = None, handoff: bool = False
) -> None:
    """Nothing is located: each range walked at once (``ikeview.parunlocated``; with keys that
    open IKE the earlier ranges hand their other frames over, ``ikeview.parhandoff``, each
    range here run after those before it, so that it never waits); the fold renumbers the
    later ranges."""
    from ikeview import parhandoff
    from ikeview.diagnosis.engine import diagnose
    from ikeview.parunlocated import (
        handoff_range,
        no_keys_short,
        renumber,
        unlocated_range,
        unlocated_split,
    )
    from ikeview.pcapranges import layout
    from ikeview.rangewalk import walk_range

    lay = layout(str(capture))
    assert lay is not None
    short = no_keys_short(jobs, lay.size - lay.first) if keyring is None else 0.0
    split = unlocated_split(str(capture), lay, jobs, short=short, handoff=handoff)
    assert split is not None
    later: list[tuple[float, Any]] = []
    with parhandoff.handoff_files(jobs if handoff else 0) as paths:
        handoffs = (paths, parhandoff.GRACE) if handoff else None

        def tail(first: Any) -> list[Any]:
            # The later ranges, run once range 0 has handed everything over; then their other
            # frames (IKE), renumbered, read last by the first range's process, as
            # fold_unlocated hands them over: part of that process's work.
            for r in range(1, jobs):
                args = (paths, parhandoff.GRACE) if handoff else ()
                worker = handoff_range if handoff else unlocated_range
                later.append(_cpu(worker, split, r, keyring, *args))
            base, out = first.walked, []
            for r, (_t, (_part, frames, kept, *_)) in enumerate(later, 1):
                out += [raw._replace(index=raw.index + base - split.bases[r]) for raw in kept]
                base += frames
            return out

        run = (split, 0, (), (), False, True, keyring, tail)
        t_all, (corr, _, first) = _cpu(walk_range, *run, handoffs=handoffs)
    t0 = t_all - sum(t for t, _ in later)

    def fold() -> object:
        base = first.walked
        for r, (_t, (part, frames, *_)) in enumerate(later, 1):
            renumber(part, base - split.bases[r])
            base += frames
        corr.absorb_esp([part for _t, (part, *_) in later])
        return diagnose(corr.snapshot(frames=base, complete=True))

    t_fold, _ = _cpu(fold)
    _say(name, one, [0.0], [t0, *(t for t, _ in later)], t_fold, jobs)


def _decrypt_once(capture: str, keyring: Any, out: Path) -> None:
    from ikeview.pcapwrite import write_decrypted

    out.unlink(missing_ok=True)
    write_decrypted(capture, keyring, str(out))


def bound_decrypt(
    capture: Path, keys: str, jobs: int, out: Path, name: str = "decrypt -o (GCM)"
) -> None:
    """``decrypt -o``'s idle-machine bound; the fold is the join of the last part, which
    follows the ranges (the file cut as ``--jobs`` cuts it, the ranges each process's share of
    them: ``parsched``)."""
    import tempfile

    from ikeview import parhandoff
    from ikeview.keys.loader import load_keys
    from ikeview.parallel import opens_no_ike
    from ikeview.pardecrypt import decrypt_handoff_range, decrypt_unlocated_range
    from ikeview.parstripe import stripe_cuts
    from ikeview.partjoin import PCAP_HEADER, append_parts
    from ikeview.parunlocated import unlocated_split
    from ikeview.pcapranges import layout

    keyring = load_keys([Path(keys)])
    one = min(_cpu(_decrypt_once, str(capture), keyring, out)[0] for _ in range(2))
    # Gone before the ranges, as a --jobs run replaces it: on this VM, page cache grown past a
    # large cached file was slow to allocate (the parts' join took 0.45-0.9 s of system time
    # with the one-pass output still cached, 0.08 s without).
    out.unlink(missing_ok=True)
    if not opens_no_ike(keyring) and jobs > parhandoff.HANDOFF_JOBS:
        _say(name, one, *_decrypt_located(capture, keys, keyring, jobs, out), jobs)
        return
    lay = layout(str(capture))
    assert lay is not None
    if stripe_cuts(lay, jobs) is not None:
        _say(name, one, [0.0], _striped(capture, lay, keyring, jobs, out), 0.0, jobs)
        return
    # As --jobs runs it: nothing located, the file cut as parsched cuts it (the tail in
    # smaller ranges), each range written at once; the ranges handed to whichever process is
    # free first, and each part appended while the later ranges are read: only the last
    # part's join follows them. With a PSK each range also hands its other frames over.
    split = unlocated_split(str(capture), lay, jobs, chunked=True)
    assert split is not None
    parts = [out.with_suffix(f".part{r}") for r in range(len(split.walked))]
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(Path(tmp) / f"range{r}") for r in range(len(parts) - 1)]
        for path in paths:
            Path(path).touch()

        def run(r: int) -> float:
            if opens_no_ike(keyring):
                args = (split, r, keyring, str(parts[r]))
                return _cpu(decrypt_unlocated_range, *args, to_output=not r)[0]
            grace = parhandoff.GRACE
            args = (split, r, keyring, str(parts[r]), paths, grace)
            return _cpu(decrypt_handoff_range, *args, to_output=not r)[0]

        times = [run(r) for r in range(len(parts))]
    append_parts(parts[0], [(str(p), PCAP_HEADER) for p in parts[1:-1]])
    t_join, _ = _cpu(append_parts, parts[0], [(str(parts[-1]), PCAP_HEADER)])
    for p in [*parts, out]:
        p.unlink(missing_ok=True)
    _say(name, one, [0.0], _scheduled(times, jobs), t_join, jobs)


def _striped(capture: Path, lay: Any, keyring: Any, jobs: int, out: Path) -> list[float]:
    """Each process's share of ``decrypt -o``'s stripes (``parstripe``), placed as they are
    read: every stripe read and placed here, in order (with a PSK each one then finds the
    others' handoffs complete), its CPU time shared equally (the processes take stripes as they
    come free, so they end within about one stripe of each other)."""
    from ikeview import parhandoff
    from ikeview.parallel import opens_no_ike
    from ikeview.parstripe import stripe_cuts, stripe_split, write_striped

    bounds = stripe_cuts(lay, jobs)
    assert bounds is not None
    split = stripe_split(str(capture), lay, bounds)
    out.write_bytes(b"")
    how = None if opens_no_ike(keyring) else (parhandoff.GRACE, ())
    total, got = _cpu(write_striped, None, split, 1, keyring, out, how)
    assert got is not None
    out.unlink()
    return [total / jobs] * jobs


def _decrypt_located(
    capture: Path, keys: str, keyring: Any, jobs: int, out: Path
) -> tuple[list[float], list[float], float]:
    """``decrypt -o``'s bound with more processes than hand frames over: the file cut as
    ``parsched`` cuts it, every range but the last located, the ranges handed to the process
    free first and each part appended while the later ones are read: only the last part's join
    follows them. (locating, each process's ranges, join)."""
    from ikeview.pardecrypt import decrypt_range
    from ikeview.partjoin import PCAP_HEADER, append_parts

    found, split = _located(capture, jobs, chunked=True)
    parts = [out.with_suffix(f".part{r}") for r in range(len(split.walked))]
    times = [
        _cpu(decrypt_range, split, r, [keys], str(parts[r]), (), True, keyring)[0]
        for r in range(len(parts))
    ]
    append_parts(parts[0], [(str(p), PCAP_HEADER) for p in parts[1:-1]])
    t_join, _ = _cpu(append_parts, parts[0], [(str(parts[-1]), PCAP_HEADER)])
    for p in [*parts, out]:
        p.unlink(missing_ok=True)
    return found, _scheduled(times, jobs), t_join


def _scheduled(times: list[float], jobs: int) -> list[float]:
    """Each process's busy time when range r takes ``times[r]``: the first ``jobs`` ranges one
    to each process, every later one to the process free first (``ikeview.parsched``)."""
    busy = list(times[:jobs])
    for t in times[jobs:]:
        q = busy.index(min(busy))
        busy[q] += t
    return busy


if __name__ == "__main__":
    main()
