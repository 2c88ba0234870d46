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
        tree = ast.parse(mods[name].read_text())
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
    tree = ast.parse(path.read_text(), filename=str(path))
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
