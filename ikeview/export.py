"""``ikeview export``: the exchange timeline as a pandas DataFrame / CSV (docs/timeline-csv.md).

One row per IKE message in capture order; with ``esp=True`` also one row per ESP SPI (placed at
its first packet's time). pandas is imported here only, by :func:`timeline`: the CSV is written
with the standard library's ``csv`` module in the exact text pandas' ``to_csv`` gives for that
DataFrame (tests/test_export_timeline.py compares both on every capture), since importing pandas
costs ~0.3 s of CPU, several times the rest of a small ``ikeview export``.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Collection
from os import PathLike
from typing import TYPE_CHECKING, Any

from ikeview import iana
from ikeview.pipeline.capture_model import iso_time

if TYPE_CHECKING:
    import pandas as pd

    from ikeview.diagnosis.records import Diagnosis
    from ikeview.pipeline.capture_model import Analysis, EspSpiStats
    from ikeview.pipeline.model import ChildSa, Exchange, IkeSa, Message

COLUMNS: tuple[str, ...] = (
    "record",
    "frame",
    "time",
    "rel_time",
    "delta_to_request",
    "ike_spi_i",
    "ike_spi_r",
    "exchange",
    "message_id",
    "kind",
    "sender",
    "src",
    "sport",
    "dst",
    "dport",
    "payloads",
    "inner_payloads",
    "notifies",
    "fragment",
    "decrypted",
    "integrity",
    "retransmission",
    "original_frame",
    "exchange_status",
    "purpose",
    "esp_spi",
    "esp_packets",
    "esp_bytes",
    "esp_decrypted",
    "esp_integrity_failed",
    "esp_missing",
    "esp_replays",
    "esp_last_time",
    "verdict",
    "codes",
)
"""Column order of the CSV; documented one by one in docs/timeline-csv.md."""

_INT_COLUMNS = (
    "frame",
    "sport",
    "dport",
    "message_id",
    "original_frame",
    "esp_packets",
    "esp_bytes",
    "esp_decrypted",
    "esp_integrity_failed",
    "esp_missing",
    "esp_replays",
)


def _names(types: tuple[int, ...], registry: iana.Registry) -> str:
    return " ".join(registry.name(t) for t in types)


def _t0(a: Analysis) -> float:
    times = [m.ts for sa in a.ike_sas for m in sa.messages]
    times += [s.first_ts for _sa, _c, s in _all_esp(a)]
    return min(times) if times else 0.0


def _all_esp(a: Analysis) -> list[tuple[IkeSa | None, ChildSa | None, EspSpiStats]]:
    found: list[tuple[IkeSa | None, ChildSa | None, EspSpiStats]] = [
        (sa, c, s) for sa in a.ike_sas for c in sa.child_sas for s in c.esp
    ]
    found += [(None, None, s) for s in a.unassociated_esp]
    return found


def _codes(d: Diagnosis, frame: int | None = None, spi: int | None = None) -> str:
    """Codes of the findings resting on ``frame`` (IKE rows) or naming ``spi`` (ESP rows; a
    finding naming no SPI concerns the whole child SA)."""
    picked = []
    for f in d.findings:
        if frame is not None and frame not in f.frames:
            continue
        if spi is not None and f.get("spi") not in (None, f"{spi:08x}"):
            continue
        picked.append(f.code)
    return " ".join(dict.fromkeys(picked))


def _ike_row(sa: IkeSa, ex: Exchange, m: Message, t0: float) -> dict[str, Any]:
    f = m.flow
    # Responses and retransmitted requests: time since the first copy of the request.
    delta = None
    if ex.request is not None and (m.response or m.retransmission == "retransmit"):
        delta = m.ts - ex.request.ts
    return {
        "record": "IKE",
        "frame": m.frame,
        "time": iso_time(m.ts),
        "rel_time": m.ts - t0,
        "delta_to_request": delta,
        "ike_spi_i": m.spi_i.hex(),
        "ike_spi_r": m.spi_r.hex(),
        "exchange": m.exchange_name,
        "message_id": m.message_id,
        "kind": "response" if m.response else "request",
        "sender": m.sender,
        "src": f.src,
        "sport": f.sport,
        "dst": f.dst,
        "dport": f.dport,
        "payloads": _names(m.payload_types, iana.PAYLOAD_TYPES),
        "inner_payloads": _names(m.inner_types, iana.PAYLOAD_TYPES),
        "notifies": _names(m.notifies, iana.NOTIFY_TYPES),
        "fragment": None if m.fragment is None else f"{m.fragment[0]}/{m.fragment[1]}",
        "decrypted": m.decrypted,
        "integrity": m.integrity,
        "retransmission": m.retransmission,
        "original_frame": m.original_frame,
        "exchange_status": ex.status,
        "purpose": ex.purpose,
        "verdict": sa.diagnosis.outcome if sa.diagnosis.verdict else None,
        "codes": " ".join(
            dict.fromkeys(
                c
                for d in (sa.diagnosis, *(c.diagnosis for c in sa.child_sas))
                for c in _codes(d, frame=m.frame).split()
            )
        )
        or None,
    }


def _esp_row(sa: IkeSa | None, child: ChildSa | None, s: EspSpiStats, t0: float) -> dict[str, Any]:
    return {
        "record": "ESP",
        "time": iso_time(s.first_ts),
        "rel_time": s.first_ts - t0,
        "ike_spi_i": sa.spi_i.hex() if sa else None,
        "ike_spi_r": sa.spi_r.hex() if sa else None,
        "src": s.src,
        "dst": s.dst,
        "decrypted": s.decrypted == s.packets and s.packets > 0,
        "integrity": "failed" if s.integrity_failed else ("ok" if s.decrypted else None),
        "esp_spi": f"{s.spi:08x}",
        "esp_packets": s.packets,
        "esp_bytes": s.bytes,
        "esp_decrypted": s.decrypted,
        "esp_integrity_failed": s.integrity_failed,
        "esp_missing": s.missing,
        "esp_replays": s.replays,
        "esp_last_time": iso_time(s.last_ts),
        "verdict": child.diagnosis.outcome if child and child.diagnosis.verdict else None,
        "codes": (_codes(child.diagnosis, spi=s.spi) or None) if child else None,
    }


CLOCK_COLUMNS = ("clock", "clock_time")
"""Added after :data:`COLUMNS` when a clock is asked for (``--time``, and the TUI's export)."""
MARK_COLUMN = "marked"
"""Added last by the TUI's export: whether the user marked the message (``m``)."""


def _clock_times(
    rows: list[tuple[float, int, dict[str, Any]]], analysis: Analysis, clock: str
) -> list[float | str]:
    """Each row's time on ``clock`` (rows in output order): seconds for the relative clocks
    (``sa``: since the row's IKE SA's first message, ESP rows without one since the capture's
    start; ``delta``: since the row above), ``wall_date`` text for ``utc`` and ``local``."""
    from ikeview.timebase import Clock, wall_date

    t0 = _t0(analysis)
    first = {(sa.spi_i.hex(), sa.spi_r.hex()): sa.first_ts for sa in analysis.ike_sas}
    out: list[float | str] = []
    previous: float | None = None
    for ts, _frame, row in rows:
        if clock in (Clock.UTC, Clock.LOCAL):
            out.append(wall_date(ts, Clock(clock)))
        elif clock == Clock.DELTA:
            out.append(ts - (t0 if previous is None else previous))
        elif clock == Clock.SA:
            out.append(ts - first.get((row["ike_spi_i"], row["ike_spi_r"]), t0))
        else:
            out.append(ts - t0)
        previous = ts
    return out


def _table(
    analysis: Analysis,
    *,
    esp: bool = False,
    clock: str | None = None,
    marks: Collection[int] | None = None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """The timeline's column names and rows (one dict each, a missing key meaning no value), in
    time order."""
    t0 = _t0(analysis)
    rows: list[tuple[float, int, dict[str, Any]]] = []
    for sa in analysis.ike_sas:
        for ex in sa.exchanges:
            for m in ex.messages:
                rows.append((m.ts, m.frame, _ike_row(sa, ex, m, t0)))
    if esp:
        for owner, child, s in _all_esp(analysis):
            rows.append((s.first_ts, 0, _esp_row(owner, child, s, t0)))
    # Sort by time, then frame: the capture's order for IKE rows; an ESP row comes right before
    # IKE messages of the same instant (its frame key is 0).
    rows.sort(key=lambda r: (r[0], r[1]))
    columns = list(COLUMNS)
    if clock is not None:
        columns += CLOCK_COLUMNS
        times = _clock_times(rows, analysis, clock)
        for (_ts, _frame, row), value in zip(rows, times, strict=True):
            row["clock"] = clock
            row["clock_time"] = value
    if marks is not None:
        columns.append(MARK_COLUMN)
        for _ts, frame, row in rows:
            row[MARK_COLUMN] = row["record"] == "IKE" and frame in marks
    return columns, [r[2] for r in rows]


def timeline(
    analysis: Analysis,
    *,
    esp: bool = False,
    clock: str | None = None,
    marks: Collection[int] | None = None,
) -> pd.DataFrame:
    """The timeline as a DataFrame with the columns of :data:`COLUMNS`, in time order; with a
    ``clock`` (``ikeview.timebase.Clock`` value) also :data:`CLOCK_COLUMNS`, with ``marks``
    (frame numbers) also :data:`MARK_COLUMN`."""
    import pandas as pd

    columns, rows = _table(analysis, esp=esp, clock=clock, marks=marks)
    frame = pd.DataFrame(rows, columns=columns)
    for col in _INT_COLUMNS:
        frame[col] = frame[col].astype("Int64")
    frame["decrypted"] = frame["decrypted"].astype("boolean")
    return frame


def _cell(value: object) -> object:
    """One value as pandas' ``to_csv(float_format="%.6f")`` writes it: no value (None, or NaN
    in a float column) empty, floats with six decimals, the rest as ``str`` does (ints, bools,
    text; the csv module quotes as pandas' writer, which is the same module, does)."""
    if value is None or value != value:  # NaN is the only value unequal to itself
        return ""
    if isinstance(value, float):
        return "%.6f" % value  # noqa: UP031 (pandas applies float_format with %)
    return value


def write_csv(
    analysis: Analysis,
    path_or_dash: str | PathLike[str],
    *,
    esp: bool = False,
    clock: str | None = None,
    marks: Collection[int] | None = None,
) -> None:
    """Write the timeline as CSV to a file, or to standard output when given ``-``: the text
    ``timeline(...).to_csv(index=False, float_format="%.6f", lineterminator="\\n")`` gives."""
    columns, rows = _table(analysis, esp=esp, clock=clock, marks=marks)
    table = [[_cell(row.get(c)) for c in columns] for row in rows]
    if str(path_or_dash) == "-":
        _write(sys.stdout, columns, table)
        sys.stdout.flush()
    else:
        with open(path_or_dash, "w", newline="", encoding="utf-8") as out:
            _write(out, columns, table)


def _write(out: Any, columns: list[str], table: list[list[object]]) -> None:
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows(table)


__all__ = ["CLOCK_COLUMNS", "COLUMNS", "MARK_COLUMN", "timeline", "write_csv"]
