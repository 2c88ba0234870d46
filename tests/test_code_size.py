"""Small modules with one job: no source module over 700 lines, no function over 60.

Read off the syntax tree of every module of the package (ikeview/, dissectors/, tui/). A
function's length is its ``def`` line to its last line, without its docstring. The exceptions
are named below, each with why: the IANA tables (data, not code) and the measured hot paths,
where one flat loop is kept on purpose because a call per packet costs throughput; each keeps
its benchmark (bench/) and a test that checks it against the general code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ast_support
import pytest

REPO = Path(__file__).resolve().parents[1]
ROOTS = {"ikeview": REPO / "ikeview", "ikeview.dissectors": REPO / "dissectors",
         "ikeview.tui": REPO / "tui"}  # fmt: skip

MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 60

LONG_MODULES: dict[str, str] = {
    "ikeview.iana.registries": "IANA's registries, one enum member per assigned number",
}
"""Modules allowed over MAX_MODULE_LINES, with why."""

HOT_PATHS: dict[str, str] = {
    "ikeview.dissectors.stream.Dissector.run": (
        "the per-frame dissect loop, inlined (bench/bench_summary.py, bench_esp_pipeline.py); "
        "test_dissect_stream.py checks the inline path against the general parsers"
    ),
    "ikeview.dissectors.stream.Dissector._udp": (
        "per-datagram UDP/NAT-T demultiplexing on the same loop (bench/bench_summary.py); "
        "test_dissect_stream.py's fast-path equivalence test"
    ),
    "ikeview.dissectors.capture.CaptureReader._pcapng": (
        "the pcapng block loop, one pass per frame (bench/bench_summary.py); "
        "test_dissect_capture.py reads every truncation of real files"
    ),
    "ikeview.pcapranges.scan": (
        "the summary's own record loop over a mapped pcap/pcapng, also each range's first round "
        "of --jobs (bench/bench_summary.py, bench_jobs.py); test_fastsummary.py checks it gives "
        "the same Summary as the dissect() path, test_pcapranges.py the ranges"
    ),
    "ikeview.crypto.esp.EspSa.decrypt": (
        "per-ESP-packet decryption with the GCM/CBC shortcuts "
        "(bench/bench_esp_crypto.py); test_crypto_esp*.py against RFC vectors and tshark"
    ),
    "ikeview.pipeline.fastwalk._walk": (
        "the batch ESP path's frame loop over a mapped classic pcap "
        "(bench/bench_decrypt_file.py); test_fastesp.py and test_fastdecrypt.py check it against "
        "the per-record path on every capture"
    ),
    "ikeview.pipeline.fastwalk._walk_reader": (
        "the same loop over the capture reader's frames (pcapng, gzip) "
        "(bench/bench_decrypt_file.py); test_fastesp.py's pcapng and gzip variants"
    ),
    "ikeview.jsonout._encode": (
        "the indented JSON of every document, leaves written in its loops rather than through a "
        "call (bench/bench_json.py); test_jsonout.py holds it equal to json.dumps"
    ),
    "ikeview.jsonout._encode.value": (
        "its one recursive function (bench/bench_json.py); test_jsonout.py, as above"
    ),
    "ikeview.pardecrypt.decrypt_range": (
        "each process's record loop of `decrypt --jobs` (bench/bench_jobs.py); "
        "test_parallel.py checks the output is byte for byte the single pass"
    ),
}
"""Functions allowed over MAX_FUNCTION_LINES: measured hot paths only, each with its bench."""


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for pkg, root in ROOTS.items():
        for path in root.rglob("*.py"):
            parts = [p for p in path.relative_to(root).with_suffix("").parts if p != "__init__"]
            out[".".join([pkg, *parts])] = path
    return out


def _functions(tree: ast.AST, prefix: str) -> dict[str, int]:
    """Qualified name -> length in lines (docstring left out) of every function, nested ones
    and methods included."""
    found: dict[str, int] = {}

    def visit(node: ast.AST, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{name}.{child.name}")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (child.end_lineno or child.lineno) - child.lineno + 1
                first = child.body[0]
                if (
                    isinstance(first, ast.Expr)
                    and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)
                ):
                    length -= (first.end_lineno or first.lineno) - first.lineno + 1
                found[f"{name}.{child.name}"] = length
                visit(child, f"{name}.{child.name}")
            else:
                visit(child, name)

    visit(tree, prefix)
    return found


MODULES = _modules()


def test_no_module_over_the_limit() -> None:
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES and name not in LONG_MODULES
    }
    assert not long, f"split these modules (over {MAX_MODULE_LINES} lines): {long}"


def test_no_function_over_the_limit() -> None:
    long: dict[str, int] = {}
    for name, path in MODULES.items():
        for func, n in _functions(ast_support.parse(path.read_text()), name).items():
            if n > MAX_FUNCTION_LINES and func not in HOT_PATHS:
                long[func] = n
    assert not long, (
        f"split these functions (over {MAX_FUNCTION_LINES} lines without the docstring), or, "
        f"for a measured hot path, add it to HOT_PATHS with its benchmark: {long}"
    )


@pytest.mark.parametrize("name", sorted({*HOT_PATHS, *LONG_MODULES}))
def test_every_exception_still_exists(name: str) -> None:
    """A stale entry would let a new long function or module in under an old name."""
    if name in LONG_MODULES:
        assert name in MODULES
        return
    module = next(m for m in sorted(MODULES, key=len, reverse=True) if name.startswith(m + "."))
    assert name in _functions(ast_support.parse(MODULES[module].read_text()), module)
