"""The ``ikeview`` command: a thin layer, one core call per command.

stdout carries data (text, JSON, CSV); stderr carries diagnostics. Errors the user can act on are
``IkeviewError`` and are rendered here, at the edge, as one line; nothing else is caught, so a bug
still shows its traceback. Heavy libraries are imported inside the command that needs them so that
``ikeview summary`` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ikeview import __version__
from ikeview.dissectors.capture import CaptureError
from ikeview.errors import ExitCode, IkeviewError

COMMANDS = ("summary", "report", "export", "decrypt", "keys", "live", "tui", "batch")


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


def _port_list(text: str) -> tuple[int, ...]:
    try:
        ports = tuple(int(p) for p in text.split(",") if p)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of port numbers: {text!r}") from None
    if any(not 0 < p < 65536 for p in ports):
        raise argparse.ArgumentTypeError(f"port out of range in {text!r}")
    return ports


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ikeview",
        description="Analyze and decrypt IKEv2 and ESP captures. "
        "'ikeview CAPTURE [--keys F]' opens the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"ikeview {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("summary", help="one line per IKE message and per ESP SPI")
    _capture_arg(p)
    p.add_argument("--json", action="store_true", help="machine-readable output (see README)")

    p = sub.add_parser("report", help="per IKE SA: exchanges, proposals, auth, timing, child SAs")
    _capture_arg(p)
    _keys_arg(p)
    p.add_argument("--json", action="store_true", help="machine-readable output (see README)")
    p.add_argument("--show-secrets", action="store_true", help="include derived keys in the report")

    p = sub.add_parser("export", help="the exchange timeline as CSV")
    _capture_arg(p)
    _keys_arg(p)
    p.add_argument("--csv", required=True, metavar="FILE", help="output file, '-' for stdout")
    p.add_argument("--esp", action="store_true", help="add one row per ESP SPI")

    p = sub.add_parser("decrypt", help="write a capture with ESP replaced by its inner packets")
    _capture_arg(p)
    _keys_arg(p, required=True)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.pcap")

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

    p = sub.add_parser("live", help="analyze IKE and ESP on an interface as it happens")
    p.add_argument("-i", "--interface", required=True, metavar="IFACE")
    _keys_arg(p)
    p.add_argument("--write", type=Path, metavar="OUT.pcap", help="also save what is captured")
    _ports_arg(p)
    p.add_argument("--count", type=int, default=0, help="stop after N packets (0: until Ctrl-C)")
    p.add_argument("--timeout", type=float, default=0, help="stop after N seconds (0: never)")
    p.add_argument("--json", action="store_true", help="print the final report as JSON")

    p = sub.add_parser("tui", help="the terminal UI (also: ikeview CAPTURE)")
    p.add_argument("capture", type=Path, nargs="?")
    p.add_argument("-i", "--interface", metavar="IFACE", help="a live interface instead of a file")
    _keys_arg(p)
    _ports_arg(p)

    _batch_parser(sub)
    return parser


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


def _normalise(argv: list[str]) -> list[str]:
    """``ikeview CAPTURE ...`` and ``ikeview -i IFACE`` mean the TUI."""
    if not argv:
        return argv
    first = argv[0]
    if first in COMMANDS or first in ("-h", "--help", "--version"):
        return argv
    return ["tui", *argv]


def _run_summary(args: argparse.Namespace) -> int:
    from ikeview.summary import summarize, to_json, to_text

    result = summarize(args.capture, extra_ports=args.ports)
    if args.json:
        import json

        json.dump(to_json(result), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for line in to_text(result):
            print(line)
    return ExitCode.OK


def _load_keys(paths: Sequence[Path]):  # -> KeyRing
    from ikeview.keys.loader import load_keys

    return load_keys(list(paths))


def _analyze(args: argparse.Namespace):  # -> Analysis
    from ikeview.pipeline.analyze import analyze
    from ikeview.progress import progress_reporter

    keyring = _load_keys(args.keys) if getattr(args, "keys", None) else None
    with progress_reporter(args.capture) as progress:
        return analyze(args.capture, keyring, extra_ports=args.ports, progress=progress)


def _run_report(args: argparse.Namespace) -> int:
    from ikeview.report import render_text, to_json

    analysis = _analyze(args)
    if args.json:
        import json

        json.dump(to_json(analysis, show_secrets=args.show_secrets), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(analysis, show_secrets=args.show_secrets))
    return ExitCode.OK


def _run_export(args: argparse.Namespace) -> int:
    from ikeview.export import write_csv

    write_csv(_analyze(args), args.csv, esp=args.esp)
    return ExitCode.OK


def _run_decrypt(args: argparse.Namespace) -> int:
    from ikeview.pcapwrite import write_decrypted

    keyring = _load_keys(args.keys)
    stats = write_decrypted(args.capture, keyring, args.output, extra_ports=args.ports)
    print(stats, file=sys.stderr)
    return ExitCode.OK


def _run_keys(args: argparse.Namespace) -> int:
    from ikeview.pipeline.keyout import keys_json, write_wireshark_tables

    analysis = _analyze(args)
    if args.wireshark:
        for path in write_wireshark_tables(analysis, args.wireshark):
            print(f"wrote {path}", file=sys.stderr)
    else:
        import json

        json.dump(keys_json(analysis), sys.stdout, indent=2)
        sys.stdout.write("\n")
    return ExitCode.OK


def _run_live(args: argparse.Namespace) -> int:
    from ikeview.live import run_live

    # Paths, not a loaded key ring: a charon log may only be written while the peers negotiate;
    # run_live reads the files at the start and again when the capture stops.
    return run_live(
        args.interface,
        key_paths=args.keys,
        write=args.write,
        extra_ports=args.ports,
        count=args.count,
        timeout=args.timeout,
        as_json=args.json,
    )


def _run_tui(args: argparse.Namespace) -> int:
    if args.capture is None and args.interface is None:
        raise IkeviewError("give a capture file or -i INTERFACE (see 'ikeview --help')")
    from ikeview.tui.app import run_app

    return run_app(
        capture=args.capture, interface=args.interface, keys=args.keys, extra_ports=args.ports
    )


def _run_batch(args: argparse.Namespace) -> int:
    from ikeview.batch import run_batch

    frames, _written = run_batch(
        args.paths,
        args.out,
        key_paths=args.keys,
        config_paths=args.config,
        extra_ports=args.ports,
        jobs=args.jobs,
        dask=args.dask,
        csv=args.csv,
    )
    caps = frames["captures"]
    failed = int(caps["error"].notna().sum())
    print(
        f"{len(caps)} captures ({failed} unreadable), {len(frames['ike_sas'])} IKE SAs, "
        f"{len(frames['esp'])} ESP SPIs -> {args.out}",
        file=sys.stderr,
    )
    return ExitCode.OK


RUNNERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "summary": _run_summary,
    "report": _run_report,
    "export": _run_export,
    "decrypt": _run_decrypt,
    "keys": _run_keys,
    "live": _run_live,
    "tui": _run_tui,
    "batch": _run_batch,
}


def main(argv: Sequence[str] | None = None) -> int:
    args_list = _normalise(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    if not args_list:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    args = parser.parse_args(args_list)
    try:
        return RUNNERS[args.command](args)
    except IkeviewError as exc:
        print(f"ikeview: {exc.msg}", file=sys.stderr)
        return exc.exit_code
    except CaptureError as exc:
        print(f"ikeview: {exc}", file=sys.stderr)
        return ExitCode.ERROR
    except FileNotFoundError as exc:
        print(f"ikeview: no such file: {exc.filename}", file=sys.stderr)
        return ExitCode.ERROR
    except IsADirectoryError as exc:
        print(f"ikeview: {exc.filename} is a directory, not a capture", file=sys.stderr)
        return ExitCode.ERROR
    except PermissionError as exc:
        print(f"ikeview: permission denied: {exc.filename}", file=sys.stderr)
        return ExitCode.ERROR
    except KeyboardInterrupt:
        print("ikeview: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # `ikeview summary big.pcap | head`: the reader left; that is not an error.
        sys.stderr.close()
        return ExitCode.OK


if __name__ == "__main__":
    raise SystemExit(main())
