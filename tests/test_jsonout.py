"""ikeview.jsonout writes what ``json.dumps(doc, indent=2)`` writes, byte for byte: on the JSON
documents of every lab capture (report with and without keys and secrets shown, keys,
summary) and of the shared captures, and on generated documents with everything the short
encoder leaves to ``json.dumps`` (enums, keys that are not strings, NaN, infinities, str
subclasses), escapes and non-ASCII text included."""

from __future__ import annotations

import enum
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lab_support import LAB

from ikeview.jsonout import _encode, dumps, write_json

REPO = Path(__file__).resolve().parents[1]


def _docs(capture: Path, keys: Path | None) -> list[Any]:
    from ikeview.keys.loader import load_keys
    from ikeview.pipeline.analyze import analyze
    from ikeview.pipeline.keyout import keys_json
    from ikeview.report import to_json
    from ikeview.summary import summarize
    from ikeview.summary import to_json as summary_json

    keyring = load_keys([keys]) if keys is not None else None
    analysis = analyze(capture, keyring)
    docs = [to_json(analysis), summary_json(summarize(capture))]
    if keyring is not None:
        docs += [to_json(analysis, show_secrets=True), keys_json(analysis)]
    return docs


@pytest.mark.parametrize(
    "scenario", sorted(p.name for p in LAB.iterdir() if (p / "capture.pcap").exists())
)
def test_lab_documents_as_json_dumps_writes_them(scenario: str) -> None:
    d = LAB / scenario
    keys = d / "keys.toml"
    for keyed in (None, keys if keys.exists() else None):
        for doc in _docs(d / "capture.pcap", keyed):
            # The short encoder itself, not its fallback: ikeview's documents are all it takes.
            assert _encode(doc) == json.dumps(doc, indent=2)


def test_shared_captures_as_json_dumps_writes_them(shared_dir: Path) -> None:
    from ikeview.dissectors.capture import CaptureError

    checked = 0
    for cap in sorted((shared_dir / "captures").rglob("*")):
        if not cap.name.endswith((".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz", ".cap")):
            continue
        try:
            docs = _docs(cap, None)
        except CaptureError:
            continue
        for doc in docs:
            assert _encode(doc) == json.dumps(doc, indent=2), cap
        checked += 1
    assert checked >= 20


class _Kind(enum.IntEnum):
    A = 1


class _Text(str):
    pass


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from([_Kind.A, _Text("sub"), -0.0, 1e-7, 1e16, 123456789.0125])
)
_keys = st.text() | st.sampled_from([1, 2.5, True, None, "k", _Text("k")])
_documents = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_keys, inner, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(_documents)
def test_generated_documents_as_json_dumps_writes_them(doc: Any) -> None:
    assert dumps(doc) == json.dumps(doc, indent=2)


def test_a_key_met_again_as_a_str_subclass() -> None:
    """Each key's text is kept per depth once written; a str subclass equal to a kept key is
    written as json.dumps writes it, as the same string."""
    met = [{"k": 1, "t": "v"}, {_Text("k"): 2}]
    assert _encode(met) == json.dumps(met, indent=2)
    # Met first (or first at its depth), it goes to json.dumps.
    for doc in ({_Text("k"): 1}, [{"k": {_Text("k"): [], "k2": {}}}]):
        assert dumps(doc) == json.dumps(doc, indent=2)


def test_write_json_ends_with_a_newline() -> None:
    out = io.StringIO()
    write_json({"a": [1, 2.5, None, True, "é\x1b"], "b": {}}, out)
    assert (
        out.getvalue() == json.dumps({"a": [1, 2.5, None, True, "é\x1b"], "b": {}}, indent=2) + "\n"
    )
