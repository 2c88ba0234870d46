"""The one-way flow (source -> dissect -> correlate -> decrypt -> model -> views), checked.

Below every layer sits ``ikeview.iana`` (the IANA registries and their names): all layers may
import it and it imports only the standard library.

import-linter cannot see `ikeview.dissectors` and `ikeview.tui` (they live in dissectors/ and tui/
through setuptools' package-dir), so the rules are checked here on the syntax tree of every module,
lazy imports inside functions included. A subprocess check then catches heavy libraries loaded at
start-up, which a static graph cannot see.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ast_support
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = {
    "ikeview": REPO / "ikeview",
    "ikeview.dissectors": REPO / "dissectors",
    "ikeview.tui": REPO / "tui",
}

# (importing package, forbidden prefixes, why)
RULES: list[tuple[str, tuple[str, ...], str]] = [
    (
        "ikeview.dissectors",
        (
            "cryptography",
            "textual",
            "pyshark",
            "pandas",
            "scapy",
            "rich",
            "ikeview.crypto",
            "ikeview.keys",
            "ikeview.pipeline",
            "ikeview.cli",
            "ikeview.tui",
            "ikeview.export",
        ),
        "dissectors turn bytes into records: no crypto, no UI, nothing from the layers above",
    ),
    (
        "ikeview.crypto",
        (
            "textual",
            "pyshark",
            "pandas",
            "scapy",
            "ikeview.dissectors",
            "ikeview.keys",
            "ikeview.pipeline",
            "ikeview.cli",
            "ikeview.tui",
        ),
        "crypto works on bytes and stands alone",
    ),
    (
        "ikeview.keys",
        ("textual", "ikeview.dissectors", "ikeview.pipeline", "ikeview.cli", "ikeview.tui"),
        "key sources are parsed into records; they know nothing of captures or views",
    ),
    (
        "ikeview.pipeline",
        ("textual", "ikeview.cli", "ikeview.tui"),
        "the core never reaches up into the views",
    ),
    (
        "ikeview.config",
        (
            "textual",
            "pyshark",
            "pandas",
            "scapy",
            "ikeview.crypto",
            "ikeview.cli",
            "ikeview.tui",
            "ikeview.report",
            "ikeview.export",
        ),
        "configs are read into records and compared with the model; they never decrypt or "
        "reach into the views (the pipeline is used only by tests and the CLI)",
    ),
    (
        "ikeview.tui",
        ("ikeview.dissectors", "ikeview.crypto"),
        "the TUI shows the core's model; it never parses or decrypts on its own (it may name "
        "the data-only record classes: RECORD_MODULES)",
    ),
    (
        "ikeview",
        ("pyshark",),
        "pyshark is in the test extra only: nothing a user runs may import it",
    ),
]


RECORD_MODULES = (
    "ikeview.dissectors.records",
    "ikeview.dissectors.ike_records",
    "ikeview.dissectors.errors",
    "ikeview.dissectors.notify_records",
)
"""The dissectors' data-only modules (frozen record classes, no parsing): a view may import
them, e.g. to ``match`` on payload types, where it may not import the parsers. Import them by
their full name (``from ikeview.dissectors.ike_records import AuthPayload``)."""


def test_record_modules_hold_no_parser() -> None:
    """What RECORD_MODULES lets the views import stays data: dataclasses, enums and aliases,
    whose functions are properties or small methods, never a ``parse``/``dissect`` entry."""
    mods = _modules()
    for name in RECORD_MODULES:
        tree = ast_support.parse(mods[name].read_text())
        funcs = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        assert not [f for f in funcs if not f.startswith("_")], (name, funcs)
        imported = _imports(mods[name], name)
        inside = {n for n in _hits(imported, ("ikeview.dissectors",)) if n != "ikeview.dissectors"}
        assert not inside - set(_hits(inside, RECORD_MODULES)), (name, sorted(inside))
        assert "struct" not in imported, name


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for pkg, root in PACKAGE_DIRS.items():
        for path in root.rglob("*.py"):
            rel = path.relative_to(root).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([pkg, *parts])
            # ikeview/ does not contain dissectors/ or tui/, so no name is found twice.
            found[name] = path
    return found


def _imports(path: Path, module: str) -> set[str]:
    tree = ast_support.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                is_pkg = path.name == "__init__.py"
                base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{a.name}" for a in node.names)
    return names


def _hits(imported: set[str], prefixes: tuple[str, ...]) -> set[str]:
    return {n for n in imported for p in prefixes if n == p or n.startswith(p + ".")}


# Packages allowed to import the record modules despite a rule forbidding their package.
RECORDS_ALLOWED = ("ikeview.tui",)


@pytest.mark.parametrize(("package", "forbidden", "why"), RULES, ids=[r[0] for r in RULES])
def test_layer_rule(package: str, forbidden: tuple[str, ...], why: str) -> None:
    bad = {}
    for name, path in _modules().items():
        if name == package or name.startswith(package + "."):
            hits = _hits(_imports(path, name), forbidden)
            if package in RECORDS_ALLOWED:
                hits -= _hits(hits, RECORD_MODULES)
            if hits:
                bad[name] = sorted(hits)
    assert not bad, f"{why}; wrong-way imports: {bad}"


BOTTOM = "ikeview.iana"
"""The shared vocabulary (IANA registries and their names): every layer may import it."""


def test_bottom_package_imports_only_the_standard_library() -> None:
    """ikeview.iana is data only: it imports nothing of ikeview (but itself) and no third-party
    library, so any layer can use it without pulling in another."""
    bad = {}
    for name, path in _modules().items():
        if name == BOTTOM or name.startswith(BOTTOM + "."):
            tops = {n for n in _imports(path, name) if not _hits({n}, (BOTTOM,))}
            outside = {
                n for n in tops if n.split(".")[0] not in sys.stdlib_module_names | {"__future__"}
            }
            if outside:
                bad[name] = sorted(outside)
    assert _modules().keys() & {BOTTOM, f"{BOTTOM}.registries", f"{BOTTOM}.names"}
    assert not bad, f"{BOTTOM} must stand alone on the standard library: {bad}"


def test_old_iana_path_is_the_same_registry() -> None:
    """``ikeview.dissectors.iana`` stays importable and is the bottom package's objects."""
    from ikeview.dissectors import iana as old

    from ikeview import iana

    assert set(old.__all__) == set(iana.__all__)
    for name in iana.__all__:
        assert getattr(old, name) is getattr(iana, name), name


def _modules_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return set(run.stdout.split())


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("ikeview.dissectors", {"cryptography", "scapy", "pandas", "textual", "pyshark"}),
        # The vocabulary loads nothing but itself and the standard library.
        ("ikeview.iana", {"cryptography", "scapy", "pandas", "textual", "ikeview.dissectors"}),
        # `ikeview summary` must start fast: heavy libraries load only in the commands using them.
        ("ikeview.cli", {"scapy", "pandas", "textual", "pyshark"}),
    ],
)
def test_light_imports(module: str, forbidden: set[str]) -> None:
    loaded = _modules_after_import(module)
    assert not forbidden & loaded, f"{module} pulls in {sorted(forbidden & loaded)}"


IKE_SIDE = (
    "ikeview.dissectors.ikev2",
    "ikeview.dissectors.ike_records",
    "ikeview.dissectors.notify_records",
    "ikeview.pipeline.correlate.messages",
    "ikeview.pipeline.ike_seam",
    "ikeview.pipeline.model",
    "ikeview.diagnosis.records",
    "ikeview.iana.registries",
    "ikeview.pipeline.correlate.builders",
    "ikeview.pipeline.correlate.exchanges",
    "ikeview.pipeline.correlate.auth",
    "ikeview.pipeline.nat",
    "ikeview.pipeline.dec_ike",
    "ikeview.pipeline.dec_auth",
    "ikeview.pipeline.dec_dh",
    "ikeview.pipeline.dec_eap",
    "ikeview.crypto.keymat",
    "ikeview.crypto.auth",
    "ikeview.crypto.eap",
    "ikeview.diagnosis.judge",
    "ikeview.diagnosis.evidence",
)
"""Loaded with the first IKE message (dissector, correlator, decryptor) or the first IKE SA to
diagnose: a capture of ESP alone, the bulk of a whole-file decryption, never imports them (the
IKE records of model.py, ike_seam.py and diagnosis/records.py included: their ~40 frozen
dataclasses cost ~15 ms to create on Python 3.11)."""

NEVER_AT_START = ("pandas", "socket", "difflib", "gzip", "concurrent.futures", "logging")
"""Not imported by these commands at all (export writes its CSV with the csv module; gzip only
for a compressed capture; concurrent.futures, with logging, only with --jobs)."""


def _modules_after_cli(args: list[str], out: Path) -> set[str]:
    code = (
        "import sys\nfrom ikeview.cli import main\n"
        f"rc = main({args!r})\n"
        f"open({str(out)!r}, 'w').write('\\n'.join(sorted(sys.modules)))\n"
        "sys.exit(rc)\n"
    )
    subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return set(out.read_text().split())


def _esp_only(shared_dir: Path, tmp_path: Path) -> tuple[str, str]:
    """The synthetic AES-GCM capture (3 ESP packets, no IKE) and its [[esp]] key (README)."""
    keys = tmp_path / "esp.toml"
    keys.write_text(
        '[[esp]]\nspi = "11223344"\nencr_key = "00112233445566778899aabbccddeeffdeadbeef"\n'
        'src = "192.0.2.1"\ndst = "192.0.2.2"\nencr = "AES_GCM_16_128"\ninteg = "NONE"\n'
    )
    return str(shared_dir / "captures/synthetic/esp-aes128gcm16-synthetic.pcap"), str(keys)


@pytest.mark.parametrize("command", ["report", "decrypt", "summary", "export"])
def test_esp_alone_loads_no_ike_side(command: str, shared_dir: Path, tmp_path: Path) -> None:
    """Start-up (issue 16): on ESP alone, report/decrypt/summary/export import none of the IKE
    side nor NEVER_AT_START; each has its output (a decrypted file, a CSV row)."""
    cap, keys = _esp_only(shared_dir, tmp_path)
    args = {
        "report": ["report", cap, "--keys", keys, "--json"],
        "decrypt": ["decrypt", cap, "--keys", keys, "-o", str(tmp_path / "d.pcap")],
        "summary": ["summary", cap],
        "export": ["export", cap, "--keys", keys, "--esp", "--csv", str(tmp_path / "t.csv")],
    }[command]
    loaded = _modules_after_cli(args, tmp_path / "modules.txt")
    assert not loaded & {*IKE_SIDE, *NEVER_AT_START}, sorted(loaded & {*IKE_SIDE, *NEVER_AT_START})
    if command == "export":
        assert "ESP" in (tmp_path / "t.csv").read_text()
    if command == "decrypt":
        assert (tmp_path / "d.pcap").stat().st_size > 24


def test_ike_side_loads_with_ike(tmp_path: Path) -> None:
    """The other half of the test above: with IKE in the capture the lazy modules do load (so
    that test is not passing because they were renamed away) and the SA is diagnosed."""
    lab = REPO / "captures/lab/gcm16-ecp256"
    out = tmp_path / "r.json"
    args = ["report", str(lab / "capture.pcap"), "--keys", str(lab / "keys.toml"), "--json"]
    code = (
        "import sys, contextlib\nfrom ikeview.cli import main\n"
        f"with open({str(out)!r}, 'w') as f, contextlib.redirect_stdout(f):\n"
        f"    rc = main({args!r})\n"
        f"open({str(tmp_path / 'm.txt')!r}, 'w').write('\\n'.join(sorted(sys.modules)))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, capture_output=True)
    loaded = set((tmp_path / "m.txt").read_text().split())
    lazy_for_psk_and_dh = set(IKE_SIDE) - {"ikeview.crypto.eap", "ikeview.pipeline.dec_eap"}
    assert lazy_for_psk_and_dh <= loaded, sorted(lazy_for_psk_and_dh - loaded)
    assert '"outcome": "established"' in out.read_text()


@pytest.mark.parametrize("ike", [False, True], ids=["esp-alone", "with-ike"])
def test_jobs_preloads_the_ike_side_only_for_ike(
    ike: bool, shared_dir: Path, tmp_path: Path
) -> None:
    """``--jobs`` imports the IKE side once before it forks (ikeview.ikepreload), and only when
    the capture's first frames carry IKE: on ESP alone it would be ~0.09 s spent before the
    fork for nothing."""
    if ike:
        cap = str(REPO / "captures/lab/gcm16-ecp256/capture.pcap")
    else:
        cap, _ = _esp_only(shared_dir, tmp_path)
    code = (
        "import sys\nfrom ikeview.ikepreload import preload_ike\n"
        f"before = set(sys.modules)\npreload_ike({cap!r}, keys=True)\n"
        "print('\\n'.join(sorted(set(sys.modules) - before)))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    added = set(run.stdout.split())
    wanted = {"ikeview.pipeline.correlate.messages", "ikeview.pipeline.dec_ike"}
    assert (wanted <= added) if ike else not (added & set(IKE_SIDE)), sorted(added)


KEY_SIDE = ("cryptography", "ikeview.keys.model", "ikeview.pipeline.dec_esp", "ikeview.crypto.esp")
"""Loaded only when keys are given: without them nothing is decrypted, and loading them would
add ~10 ms to every run (cryptography's bindings alone are ~4 ms)."""


@pytest.mark.parametrize("command", ["report", "export", "summary"])
@pytest.mark.parametrize("capture", ["natt", "esp-alone"])
def test_no_keys_loads_no_key_side(
    command: str, capture: str, shared_dir: Path, tmp_path: Path
) -> None:
    """Without --keys, a capture with IKE (its EAP and AUTH halves loaded) or of ESP alone is
    read without loading cryptography, the keys model or the ESP decryptor; with keys they do
    load (so that this passes for the right reason)."""
    if capture == "natt":
        cap, keys = (
            str(REPO / "captures/lab/natt/capture.pcap"),
            str(REPO / "captures/lab/natt/keys.toml"),
        )
    else:
        cap, keys = _esp_only(shared_dir, tmp_path)
    args = {
        "report": ["report", cap, "--json"],
        "export": ["export", cap, "--csv", str(tmp_path / "t.csv")],
        "summary": ["summary", cap],
    }[command]
    loaded = _modules_after_cli(args, tmp_path / "modules.txt")
    assert not {m for m in loaded if m.startswith(KEY_SIDE)}, sorted(loaded)
    if command != "summary":
        with_keys = _modules_after_cli([*args, "--keys", keys], tmp_path / "with.txt")
        assert set(KEY_SIDE) <= with_keys
