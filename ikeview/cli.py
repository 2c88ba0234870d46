"""The ``ikeview`` command: a thin layer, one core call per command.

stdout carries data (text, JSON, CSV); stderr carries diagnostics. Errors the user can act on are
``IkeviewError`` and are rendered here, at the edge, as one line; nothing else is caught, so a bug
still shows its traceback. Heavy libraries are imported inside the command that needs them so that
``ikeview summary`` starts fast.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ikeview.cliparser import COMMANDS, build_parser, normalise
from ikeview.dissectors.capture import CaptureError
from ikeview.errors import ExitCode, IkeviewError
from ikeview.textsafe import printable, printable_lines

if TYPE_CHECKING:  # names only: the commands import what they run lazily (fast start-up)
    from ikeview.config.records import DeviceConfig
    from ikeview.keys.model import KeyRing
    from ikeview.pipeline.model import Analysis


def _say(msg: str) -> None:
    """One diagnostic line on stderr; file names, identities and labels in it are escaped."""
    print(f"ikeview: {printable(msg)}", file=sys.stderr)


def _inputs(args: argparse.Namespace) -> list[Path]:
    """Every file this command reads: an output may be none of them."""
    capture = getattr(args, "capture", None)
    return [
        *([capture] if capture is not None else []),
        *getattr(args, "keys", []),
        *getattr(args, "config", []),
    ]


def _run_summary(args: argparse.Namespace) -> int:
    from ikeview.fastsummary import summarize_fast
    from ikeview.pipeline.fastswitch import fast_allowed
    from ikeview.summary import to_json, to_text

    if args.jobs != 1:
        from ikeview.parallel import summarize_parallel

        result = summarize_parallel(args.capture, extra_ports=args.ports, jobs=args.jobs)
    elif fast_allowed(not args.no_fast):
        result = summarize_fast(args.capture, extra_ports=args.ports)
    else:
        from ikeview.summary import summarize

        result = summarize(args.capture, extra_ports=args.ports)
    if args.json:
        from ikeview.jsonout import write_json

        write_json(to_json(result), sys.stdout)
    else:
        for line in to_text(result):
            print(printable_lines(line))
    return ExitCode.OK


def _load_keys(paths: Sequence[Path]) -> KeyRing:
    from ikeview.keys.loader import load_keys

    return load_keys(list(paths))


def _load_configs(args: argparse.Namespace) -> list[DeviceConfig]:
    """The --config files read (a bad one stops the command before any capture is read)."""
    if not getattr(args, "config", None):
        return []
    from ikeview.config.load import load_configs

    return load_configs(args.config, ios_release=args.ios_release)


def _analyze(args: argparse.Namespace, keyring: KeyRing | None = None) -> Analysis:
    """The capture analysed with the --keys files (or ``keyring`` when the caller has already
    loaded them) and the --config files."""

    def single() -> Analysis:
        from ikeview.pipeline.analyze import analyze
        from ikeview.progress import progress_reporter

        nonlocal keyring
        if keyring is None and getattr(args, "keys", None):
            keyring = _load_keys(args.keys)
        configs = _load_configs(args)
        if configs:
            from ikeview.config.keys import config_keyring

            # The configs' keys first: the key that verifies an AUTH then names the config's
            # line.
            keyring = config_keyring(configs).merge(*([keyring] if keyring else []))
        # The bar shows the file name on the terminal: escaped, and "[" kept from rich's markup.
        shown = Path(printable(args.capture.name).replace("[", "\\["))
        with progress_reporter(shown) as progress:
            analysis = analyze(
                args.capture,
                keyring,
                extra_ports=args.ports,
                progress=progress,
                fast=not getattr(args, "no_fast", False),
            )
        if configs:
            from ikeview.config.check import apply_configs

            analysis = apply_configs(analysis, configs, side=args.config_side, keyring=keyring)
        return analysis

    # --show-secrets prints whether each derived ESP key verified: a per-process fact, so
    # that report reads the capture in one pass; so do config checks (their keys join the
    # keyring in this process).
    if (
        getattr(args, "jobs", 1) == 1
        or getattr(args, "show_secrets", False)
        or getattr(args, "config", None)
    ):
        return single()
    from ikeview.parallel import analyze_parallel

    return analyze_parallel(
        args.capture,
        args.keys,
        extra_ports=args.ports,
        jobs=args.jobs,
        serial=single,
        fast=not getattr(args, "no_fast", False),
    )


def _run_report(args: argparse.Namespace) -> int:
    analysis = _analyze(args)
    from ikeview.report import render_text, to_json

    if args.json:
        from ikeview.jsonout import write_json

        write_json(to_json(analysis, show_secrets=args.show_secrets), sys.stdout)
    else:
        text = render_text(
            analysis, show_secrets=args.show_secrets, card=args.card, clock=args.time
        )
        sys.stdout.write(printable_lines(text))
    return ExitCode.OK


def _say_damage(analysis: Analysis) -> None:
    """``export`` and ``keys`` write data, not a report: where a damaged capture stopped being
    read goes to stderr (``report`` and ``summary`` show it in their output, ``decrypt`` under
    its counts), so that a CSV or key list cut short is never taken for the whole capture."""
    if analysis.damage is not None:
        print(
            f"ikeview: {printable(analysis.capture)}: {printable(analysis.damage)}", file=sys.stderr
        )


def _run_export(args: argparse.Namespace) -> int:
    from ikeview.export import write_csv

    if args.csv == "-":
        analysis = _analyze(args)
        write_csv(analysis, "-", esp=args.esp, clock=args.time)
        _say_damage(analysis)
        return ExitCode.OK
    from ikeview.outfile import check_target, replacing

    check_target(args.csv, _inputs(args))  # before the analysis: fail fast
    analysis = _analyze(args)
    with replacing(args.csv, inputs=_inputs(args)) as tmp:
        write_csv(analysis, tmp, esp=args.esp, clock=args.time)
    _say_damage(analysis)
    return ExitCode.OK


def _run_decrypt(args: argparse.Namespace) -> int:
    from ikeview.outfile import check_target
    from ikeview.pcapwrite import write_decrypted

    check_target(args.output, _inputs(args))
    if args.jobs != 1:
        from ikeview.pardecrypt import write_decrypted_parallel

        _load_keys(args.keys)  # a bad keys file stops here, before any process starts
        stats = write_decrypted_parallel(
            args.capture,
            args.keys,
            args.output,
            extra_ports=args.ports,
            jobs=args.jobs,
            fast=not args.no_fast,
        )
    else:
        keyring = _load_keys(args.keys)
        stats = write_decrypted(
            args.capture, keyring, args.output, extra_ports=args.ports, fast=not args.no_fast
        )
    print(printable_lines(str(stats)), file=sys.stderr)
    # What the counts do not say: which SPIs had no keys or keys that do not verify, frames
    # copied undecoded, where a damaged file stopped being read (first 20, capture order).
    for problem in [*stats.problems, *([stats.damage] if stats.damage else [])]:
        print(f"  {printable(problem)}", file=sys.stderr)
    return ExitCode.OK


def _run_keys(args: argparse.Namespace) -> int:
    from ikeview.pipeline.keyout import keys_json, write_wireshark_tables

    analysis = _analyze(args)
    _say_damage(analysis)
    if args.wireshark:
        for path in write_wireshark_tables(analysis, args.wireshark, inputs=_inputs(args)):
            print(f"wrote {printable(str(path))}", file=sys.stderr)
    else:
        from ikeview.jsonout import write_json

        write_json(keys_json(analysis), sys.stdout)
    return ExitCode.OK


def _run_live(args: argparse.Namespace) -> int:
    from ikeview.live import run_live

    if args.write is not None:
        from ikeview.outfile import check_target

        check_target(args.write, _inputs(args))  # never over a keys file, a config, a link...

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
        configs=_load_configs(args),
        config_side=args.config_side,
    )


def _run_config(args: argparse.Namespace) -> int:
    from ikeview.config.writers import write_configs

    keyring = _load_keys(args.keys) if args.keys else None
    analysis = _analyze(args, keyring)  # the keys files are read once, here
    sides = (args.side,) if args.side else ("initiator", "responder")
    texts = write_configs(
        analysis,
        kind="ios" if args.ios else "swanctl",
        sides=sides,
        keyring=keyring,
        show_secrets=args.show_secrets,
    )
    for side in sides:
        sys.stdout.write(printable_lines(texts[side]))
    return ExitCode.OK


def _run_tui(args: argparse.Namespace) -> int:
    if args.capture is None and args.interface is None:
        raise IkeviewError("give a capture file or -i INTERFACE (see 'ikeview --help')")
    from ikeview.tui.app import run_app

    return run_app(
        capture=args.capture,
        interface=args.interface,
        keys=args.keys,
        extra_ports=args.ports,
        configs=_load_configs(args),
        config_side=args.config_side,
    )


def _run_ladder(args: argparse.Namespace) -> int:
    from ikeview.ladder_export import to_mermaid, to_svg

    analysis = _analyze(args)
    picture = to_mermaid(analysis) if args.mermaid else to_svg(analysis)
    if args.output is None:
        sys.stdout.write(picture)
    else:
        from ikeview.outfile import write_text

        # Through the one output writer: atomic, never over an input or through a link.
        write_text(args.output, picture, inputs=_inputs(args))
    return ExitCode.OK


def _run_serve(args: argparse.Namespace) -> int:
    import shlex

    from textual_serve.server import Server

    if not args.capture.is_file():
        raise IkeviewError(f"no such capture: {printable(str(args.capture))}")
    command = [sys.executable, "-m", "ikeview", "tui", str(args.capture)]
    for key in args.keys:
        command += ["--keys", str(key)]
    if args.ports:
        command += ["--ports", ",".join(str(p) for p in args.ports)]
    print(f"ikeview: serving on http://localhost:{args.port}", file=sys.stderr)
    Server(shlex.join(command), host="localhost", port=args.port, title="ikeview").serve()
    return ExitCode.OK


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
    "ladder": _run_ladder,
    "serve": _run_serve,
    "config": _run_config,
    "batch": _run_batch,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command: ``argv``, or the program's own arguments when None (the process then
    ends: ``ikeview`` and ``python -m ikeview``). Returns the exit code."""
    code = _run(normalise(list(sys.argv[1:] if argv is None else argv)))
    if argv is None:
        # The process ends next, and its exit makes one last garbage-collection pass over every
        # object still alive: 7-10 ms after a run on ESP alone, ~20 ms after one with IKE
        # (bench/bench_startup.py). They all go with the process anyway, so they are frozen out
        # of that pass; exit handlers, flushes and closes still run. A caller that passes its
        # own arguments goes on living: its objects are left as they are.
        gc.freeze()
    return code


def _run(args_list: list[str]) -> int:
    # Only the parser of the command run (the whole set for -h, --version or no command).
    parser = build_parser(args_list[0] if args_list and args_list[0] in COMMANDS else None)
    if not args_list:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    args = parser.parse_args(args_list)
    try:
        code = RUNNERS[args.command](args)
        sys.stdout.flush()  # here, so that a full disk or a closed pipe is caught below
        return code
    except IkeviewError as exc:
        _say(exc.msg)
        return exc.exit_code
    except CaptureError as exc:
        _say(str(exc))
        return ExitCode.ERROR
    except FileNotFoundError as exc:
        _say(f"no such file: {exc.filename}")
        return ExitCode.ERROR
    except IsADirectoryError as exc:
        _say(f"{exc.filename} is a directory, not a file")
        return ExitCode.ERROR
    except PermissionError as exc:
        _say(f"permission denied: {exc.filename}")
        return ExitCode.ERROR
    except BrokenPipeError:
        return _reader_left()
    except OSError as exc:
        # A full disk or an I/O error on standard output or an input: one line, not a traceback.
        where = f"{exc.filename}: " if exc.filename else "writing the output: "
        _say(f"{where}{exc.strerror or exc}")
        return ExitCode.ERROR
    except KeyboardInterrupt:
        print("ikeview: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


def _reader_left() -> int:
    """`ikeview summary big.pcap | head`: the reader left; that is not an error. stdout is
    pointed at /dev/null so that Python's own flush at exit does not complain again."""
    import contextlib
    import os

    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return ExitCode.OK


if __name__ == "__main__":
    raise SystemExit(main())
