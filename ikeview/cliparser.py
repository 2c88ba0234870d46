"""The ``ikeview`` command line: its commands, their arguments and their help.

Only the parser of the command being run is built (``build_parser(command)``): argparse makes a
help formatter (and asks the terminal's size) for every argument it adds and looks up the
translation of every help text, 3-5 ms of a fresh process for all eleven commands; one command's
alone saves 1-2 ms of start-up (medians of 20 runs). ``ikeview -h`` builds them all.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from ikeview import __version__
from ikeview.textsafe import printable


def _capture_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("capture", type=Path, help="pcap or pcapng file, optionally gzip-compressed")
    _ports_arg(p)


def _ports_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--ports",
        type=_port_list,
        default=(),
        metavar="P[,P...]",
        help="extra UDP ports that carry IKE/ESP (like 4500: non-ESP marker)",
    )


def _jobs_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="split the capture across N processes (0: all cores); same output as 1",
    )


def _fast_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-fast",
        action="store_true",
        help="read every packet as a record (the reference path; same output, slower); "
        "also IKEVIEW_NO_FAST=1",
    )


def _keys_arg(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    p.add_argument(
        "--keys",
        type=Path,
        action="append",
        default=[],
        required=required,
        metavar="FILE",
        help="keys file (ikeview TOML, Wireshark table, tcpdump secrets, charon or pluto log); "
        "repeatable",
    )


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a device config to check the capture against (Cisco IOS running-config, "
        "swanctl.conf, ipsec.conf); its PSKs are used as keys; repeatable",
    )
    p.add_argument(
        "--ios-release",
        choices=("ios15", "iosxe16", "iosxe17"),
        default=None,
        help="IOS Smart Defaults to assume: ios15 (IOS 15.x), iosxe16 (IOS XE 16.x-17.10), "
        "iosxe17 (IOS XE 17.11+; the default)",
    )
    p.add_argument(
        "--config-side",
        choices=("initiator", "responder"),
        default=None,
        help="which side of the IKE SAs the --config belongs to, when its addresses do not say",
    )


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {printable(text)!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {printable(text)!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds >= 0, not {text}")
    return value


def _port_list(text: str) -> tuple[int, ...]:
    try:
        ports = tuple(int(p) for p in text.split(",") if p)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of port numbers: {text!r}") from None
    if any(not 0 < p < 65536 for p in ports):
        raise argparse.ArgumentTypeError(f"port out of range in {text!r}")
    return ports


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of ``command`` alone (the others left out)."""
    parser = argparse.ArgumentParser(
        prog="ikeview",
        description="Analyze and decrypt IKEv2 and ESP captures. "
        "'ikeview CAPTURE [--keys F]' opens the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"ikeview {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add in _COMMAND_PARSERS.items():
        if command is None or command == name:
            add(sub)
    return parser


def _summary_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("summary", help="one line per IKE message and per ESP SPI")
    _capture_arg(p)
    _jobs_arg(p)
    _fast_arg(p)
    p.add_argument("--json", action="store_true", help="machine-readable output (see README)")


def _report_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="per IKE SA: exchanges, proposals, auth, timing, child SAs")
    _capture_arg(p)
    _keys_arg(p)
    _jobs_arg(p)
    _fast_arg(p)
    p.add_argument("--json", action="store_true", help="machine-readable output (see README)")
    p.add_argument("--show-secrets", action="store_true", help="include derived keys in the report")
    p.add_argument(
        "--time",
        choices=("capture", "sa", "utc", "local"),
        default="capture",
        help="times since the capture's first packet (default), since each IKE SA's first "
        "message, or wall-clock UTC / local time (to match router logs)",
    )
    p.add_argument(
        "--card",
        action="store_true",
        help="each IKE SA's card (show crypto ikev2 sa detailed / swanctl --list-sas fields)",
    )
    _config_args(p)


def _export_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="the exchange timeline as CSV")
    _capture_arg(p)
    _keys_arg(p)
    _jobs_arg(p)
    _fast_arg(p)
    p.add_argument("--csv", required=True, metavar="FILE", help="output file, '-' for stdout")
    p.add_argument("--esp", action="store_true", help="add one row per ESP SPI")
    p.add_argument(
        "--time",
        choices=("capture", "sa", "delta", "utc", "local"),
        default=None,
        help="add the columns clock and clock_time: the time on that clock (as the TUI's t "
        "shows it; the TUI's export always adds them)",
    )
    _config_args(p)


def _decrypt_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("decrypt", help="write a capture with ESP replaced by its inner packets")
    _capture_arg(p)
    _keys_arg(p, required=True)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.pcap")
    _jobs_arg(p)
    _fast_arg(p)


def _keys_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="every derived SK_* and ESP key")
    _capture_arg(p)
    _keys_arg(p, required=True)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="as JSON (the default)")
    out.add_argument(
        "--wireshark",
        type=Path,
        metavar="DIR",
        help="write ikev2_decryption_table and esp_sa for Wireshark/tshark into DIR",
    )


def _live_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("live", help="analyze IKE and ESP on an interface as it happens")
    p.add_argument("-i", "--interface", required=True, metavar="IFACE")
    _keys_arg(p)
    p.add_argument("--write", type=Path, metavar="OUT.pcap", help="also save what is captured")
    _ports_arg(p)
    p.add_argument("--count", type=_count, default=0, help="stop after N packets (0: until Ctrl-C)")
    p.add_argument("--timeout", type=_seconds, default=0, help="stop after N seconds (0: never)")
    p.add_argument("--json", action="store_true", help="print the final report as JSON")
    _config_args(p)


def _config_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="IOS or swanctl.conf snippets that reproduce the capture")
    _capture_arg(p)
    _keys_arg(p)
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--ios", action="store_true", help="Cisco IOS / IOS XE configuration")
    kind.add_argument("--swanctl", action="store_true", help="strongSwan swanctl.conf")
    p.add_argument("--side", choices=("initiator", "responder"), help="one side only")
    p.add_argument("--show-secrets", action="store_true", help="write the PSKs, not placeholders")


def _tui_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tui", help="the terminal UI (also: ikeview CAPTURE)")
    p.add_argument("capture", type=Path, nargs="?")
    p.add_argument("-i", "--interface", metavar="IFACE", help="a live interface instead of a file")
    _keys_arg(p)
    _ports_arg(p)
    _config_args(p)


def _batch_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="many captures into one dataset of tables (Parquet, CSV)")
    p.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="captures or directories")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="dataset directory")
    _keys_arg(p)
    p.add_argument(
        "--config",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="device configuration to check every IKE SA against; repeatable",
    )
    p.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="captures analysed at once (0: all cores)"
    )
    p.add_argument("--dask", metavar="SCHEDULER", help="run on a Dask cluster (tcp://host:8786)")
    p.add_argument("--csv", action="store_true", help="also write each table as CSV")
    _ports_arg(p)


def _ladder_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ladder", help="the exchange ladder as Mermaid or SVG, for a ticket")
    _capture_arg(p)
    _keys_arg(p)
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--mermaid", action="store_true", help="a Mermaid sequenceDiagram")
    kind.add_argument("--svg", action="store_true", help="an SVG sequence diagram")
    p.add_argument("-o", "--output", type=Path, metavar="OUT", help="file (default: stdout)")


def _serve_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="the terminal UI in a web browser (textual-serve)")
    _capture_arg(p)
    _keys_arg(p)
    p.add_argument("--port", type=int, default=8000, metavar="N", help="port on localhost")


_COMMAND_PARSERS: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "summary": _summary_parser,
    "report": _report_parser,
    "export": _export_parser,
    "decrypt": _decrypt_parser,
    "keys": _keys_parser,
    "live": _live_parser,
    "config": _config_parser,
    "tui": _tui_parser,
    "batch": _batch_parser,
    "ladder": _ladder_parser,
    "serve": _serve_parser,
}
"""Each command's parser, in the order ``ikeview -h`` lists them."""
COMMANDS = tuple(_COMMAND_PARSERS)


def normalise(argv: list[str]) -> list[str]:
    """``ikeview CAPTURE ...`` and ``ikeview -i IFACE`` mean the TUI."""
    if not argv:
        return argv
    first = argv[0]
    if first in COMMANDS or first in ("-h", "--help", "--version"):
        return argv
    return ["tui", *argv]


__all__ = ["COMMANDS", "build_parser", "normalise"]
