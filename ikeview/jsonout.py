"""JSON documents on a text stream, as the commands print them (indented by two, then a newline).

The bytes are ``json.dumps(doc, indent=2)``'s. With an indent the standard library runs its
pure-Python encoder, a generator that yields each token through several type tests, and on a
capture rich in IKE that costs as much as the analysis: 1,003 IKE messages analysed in 29 ms,
their 929 KB of JSON encoded in 24 ms. :func:`dumps` writes the same text for the documents
ikeview builds (dicts with string keys, lists, tuples, strings, ints, finite floats, booleans,
None) with one recursive function that appends to a list, using the standard library's own
string escaping (its C ``encode_basestring_ascii``) and number formatting: 9 ms for those
929 KB, and 5.5 ms for the 947 KB of ``report --json`` on the 1M-packet bench mix since each
key's text is kept per depth and strings and ints are written without a call (10.4 ms
before; 2026-12-06). Anything else in a document (a key that is not a string, an int or str
subclass such as an enum, NaN) hands the whole document to ``json.dumps``, so the output never
depends on which encoder ran (tests/test_jsonout.py holds the two equal on every lab capture's
reports and on generated documents).
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any, TextIO

_INF = float("inf")


class _Unusual(Exception):
    """A value the short encoder leaves to ``json.dumps``."""


def dumps(doc: Any) -> str:
    """``json.dumps(doc, indent=2)``, the same text, faster for ikeview's documents."""
    try:
        return _encode(doc)
    except _Unusual:
        return json.dumps(doc, indent=2)


def _encode(doc: Any) -> str:
    parts: list[str] = []
    add = parts.append
    string, integer, real = encode_basestring_ascii, int.__repr__, float.__repr__
    # Each key's text with the line and indent before it, escaped once per depth: a report
    # repeats the same ~20 keys for every IKE message. A key found here was an exact str
    # when first written; only a str subclass can equal it, which json.dumps writes the same.
    heads: dict[str, dict[Any, str]] = {}

    # Exact type tests, as json's encoder would otherwise treat subclasses (bool before int).
    # Strings and ints, most of the values, are written in the loops rather than through a
    # call: 10.4 -> 5.5 ms for a 947 KB report (2026-12-06).
    def value(o: Any, pad: str) -> None:
        t = type(o)
        if t is dict:
            if not o:
                add("{}")
                return
            inner = pad + "  "
            known = heads.get(inner)
            if known is None:
                known = heads[inner] = {}
            sep = "{"
            for k, v in o.items():
                head = known.get(k)
                if head is None:
                    if type(k) is not str:
                        raise _Unusual
                    head = known[k] = inner + string(k) + ": "
                add(sep)
                add(head)
                sep = ","
                tv = type(v)
                if tv is str:
                    add(string(v))
                elif tv is int:
                    add(integer(v))
                elif v is None:
                    add("null")
                else:
                    value(v, inner)
            add(pad)
            add("}")
        elif t is list or t is tuple:
            if not o:
                add("[]")
                return
            inner = pad + "  "
            sep, after = "[" + inner, "," + inner
            for v in o:
                add(sep)
                sep = after
                tv = type(v)
                if tv is str:
                    add(string(v))
                elif tv is int:
                    add(integer(v))
                else:
                    value(v, inner)
            add(pad)
            add("]")
        elif t is str:
            add(string(o))
        elif t is int:
            add(integer(o))
        elif o is None:
            add("null")
        elif o is True:
            add("true")
        elif o is False:
            add("false")
        elif t is float and -_INF < o < _INF:
            add(real(o))
        else:
            raise _Unusual

    value(doc, "\n")
    return "".join(parts)


def write_json(doc: Any, out: TextIO) -> None:
    """``doc`` on ``out``, indented by two, and a newline (encoded to one string, written
    once: ``json.dump`` would call ``write`` once per token)."""
    out.write(dumps(doc))
    out.write("\n")


__all__ = ["dumps", "write_json"]
