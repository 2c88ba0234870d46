"""``ikeview batch``: many captures analysed into one dataset of tables (Parquet, optionally CSV).

Each capture is analysed on its own (``analyse_capture``, a plain function of paths so that a
process pool or a Dask worker can run it) into rows of plain Python values; the rows are
gathered in the order the captures were listed, whatever order the workers finish in, so the
dataset does not depend on ``--jobs`` or on the cluster. A capture that cannot be read gives
one ``captures`` row with its ``error`` and no other rows; the batch goes on.

The tables and their columns are ``batch_tables.SCHEMA`` (documented in ``docs/batch.md``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ikeview.batch_tables import SCHEMA, Tables, analysis_tables, error_tables
from ikeview.errors import IkeviewError

_MAGICS = (
    b"\xa1\xb2\xc3\xd4",
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
    b"\x4d\x3c\xb2\xa1",
    b"\x0a\x0d\x0d\x0a",
    b"\x1f\x8b",
)  # pcap (us and ns, both byte orders), pcapng section header, gzip


# ------------------------------------------------------------------------- finding captures


def _looks_like_capture(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return any(head.startswith(m) for m in _MAGICS)


def find_captures(paths: Iterable[Path]) -> list[Path]:
    """Files named, plus files under named directories that start like a pcap, pcapng or gzip.

    A named file is taken whatever it holds (if it is no capture, its row says so); inside a
    directory only files with a capture's magic number are, so logs and keys beside them are
    skipped. Sorted per directory, duplicates dropped, the order of the arguments kept."""
    found: list[Path] = []
    seen: set[str] = set()
    for p in paths:
        if p.is_dir():
            under = sorted(f for f in p.rglob("*") if f.is_file() and _looks_like_capture(f))
        else:
            under = [p]
        for f in under:
            key = os.path.realpath(f)
            if key not in seen:
                seen.add(key)
                found.append(f)
    return found


def _describe(exc: BaseException) -> str:
    from ikeview.dissectors.capture import CaptureError

    if isinstance(exc, IkeviewError):
        return exc.msg
    if isinstance(exc, CaptureError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"


def analyse_capture(
    capture: str,
    key_paths: Sequence[str] = (),
    config_paths: Sequence[str] = (),
    extra_ports: Sequence[int] = (),
) -> Tables:
    """Analyse one capture into table rows; never raises for a bad capture (its row says why).

    Takes paths, not loaded objects, so that it pickles cheaply to a process or a Dask worker
    (which must see the same paths: a shared file system)."""
    try:
        size = os.path.getsize(capture)
    except OSError as exc:
        return error_tables(capture, None, _describe(exc))
    try:
        from ikeview.pipeline.analyze import analyze

        keyring = _load_keys(key_paths)
        configs = _load_configs(config_paths)
        if configs:
            from ikeview.config.keys import config_keyring

            # As report does: the configs' PSKs first, so a verified AUTH names the config line.
            keyring = config_keyring(configs).merge(*([keyring] if keyring else []))
        analysis = analyze(capture, keyring, extra_ports=extra_ports)
        if configs:
            from ikeview.config.check import apply_configs

            analysis = apply_configs(analysis, configs, keyring=keyring)
        return analysis_tables(analysis, capture, size)
    except MemoryError:
        return error_tables(capture, size, "out of memory")
    except Exception as exc:  # one bad capture must not stop a batch of thousands
        return error_tables(capture, size, _describe(exc))


def _load_keys(key_paths: Sequence[str]) -> Any:
    if not key_paths:
        return None
    from ikeview.keys.loader import load_keys

    return load_keys([Path(p) for p in key_paths])


def _load_configs(config_paths: Sequence[str]) -> list[Any]:
    if not config_paths:
        return []
    from ikeview.config.load import load_configs

    return load_configs([Path(p) for p in config_paths])


# ------------------------------------------------------------------------ running the batch


Done = Callable[[int, Tables], None]
"""Called with (index in the capture list, its tables) as each capture finishes."""


def _run_local(jobs: int, captures: list[str], args: tuple[Any, ...], done: Done) -> None:
    if jobs == 1 or len(captures) <= 1:
        for i, c in enumerate(captures):
            done(i, analyse_capture(c, *args))
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures: dict[Future[Tables], int] = {
            pool.submit(analyse_capture, c, *args): i for i, c in enumerate(captures)
        }
        for fut in as_completed(futures):
            done(futures[fut], fut.result())


def _run_dask(address: str, captures: list[str], args: tuple[Any, ...], done: Done) -> None:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise IkeviewError(
            "--dask needs the 'distributed' package: pip install 'ikeview[cluster]'"
        ) from None
    try:
        client = Client(address, timeout=30)
    except OSError as exc:
        raise IkeviewError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        futures = client.map(
            analyse_capture, captures, *[[a] * len(captures) for a in args], pure=False
        )
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in dask_completed(futures):
            done(index[fut.key], fut.result())


@contextmanager
def _file_bar(total: int) -> Iterator[Callable[[str], None]]:
    """A progress bar over files on a terminal's stderr; a no-op callback otherwise."""
    if not sys.stderr.isatty():
        yield lambda _name: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("captures", total=total)
        yield lambda _name: bar.advance(task)


def to_frames(results: Sequence[Tables]) -> dict[str, Any]:
    """One pandas DataFrame per table, rows in capture order, columns and dtypes from SCHEMA."""
    import pandas as pd

    frames = {}
    for name, cols in SCHEMA.items():
        rows = [row for tables in results for row in tables[name]]
        df = (
            pd.DataFrame.from_records(rows, columns=list(cols))
            if rows
            else pd.DataFrame({c: [] for c in cols})
        )
        frames[name] = df.astype(cols).reset_index(drop=True)
    return frames


def write_dataset(frames: dict[str, Any], out: Path, *, csv: bool = False) -> list[Path]:
    """Write each table as ``NAME.parquet`` (and ``NAME.csv``) in ``out``, atomically.

    Everything is written into a temporary directory inside ``out`` first and then renamed into
    place file by file, so a reader never sees a half-written table."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".ikeview-batch-", dir=out))
    written = []
    try:
        for name, df in frames.items():
            df.to_parquet(tmp / f"{name}.parquet", engine="pyarrow", index=False)
            written.append(f"{name}.parquet")
            if csv:
                df.to_csv(tmp / f"{name}.csv", index=False)
                written.append(f"{name}.csv")
        for fname in written:
            os.replace(tmp / fname, out / fname)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [out / f for f in written]


def run_batch(
    paths: Sequence[Path],
    out: Path,
    *,
    key_paths: Sequence[Path] = (),
    config_paths: Sequence[Path] = (),
    extra_ports: Sequence[int] = (),
    jobs: int = 1,
    dask: str | None = None,
    csv: bool = False,
) -> tuple[dict[str, Any], list[Path]]:
    """Analyse every capture under ``paths`` and write the dataset to ``out``.

    Returns the tables and the files written. Keys and configs are read once here first so
    that a bad keys file stops the batch before any capture is read."""
    captures = [str(p) for p in find_captures(paths)]
    if not captures:
        raise IkeviewError("no capture found under the paths given")
    keyring = _load_keys([str(p) for p in key_paths])
    _load_configs([str(p) for p in config_paths])
    del keyring
    args = (tuple(map(str, key_paths)), tuple(map(str, config_paths)), tuple(extra_ports))
    results: list[Tables | None] = [None] * len(captures)
    with _file_bar(len(captures)) as tick:

        def done(i: int, tables: Tables) -> None:
            results[i] = tables
            tick(captures[i])

        if dask:
            _run_dask(dask, captures, args, done)
        else:
            from ikeview.parallel import job_count

            _run_local(job_count(jobs), captures, args, done)
    frames = to_frames([r for r in results if r is not None])
    return frames, write_dataset(frames, out, csv=csv)


__all__ = [
    "SCHEMA",
    "analyse_capture",
    "analysis_tables",
    "find_captures",
    "run_batch",
    "to_frames",
    "write_dataset",
]
