"""``ast.parse`` for the structure tests, robust to a CPython 3.11 defect.

In 3.11 the AST constructor keeps its recursion-depth counter in the interpreter's ``_ast``
module state, shared by every thread (CPython issue 106905 and its follow-ups; 3.12 keeps it
per call). When another thread parses while the main thread's tree is being built, the counter
ends off and ``ast.parse`` raises ``SystemError: AST constructor recursion depth mismatch`` on a
file that parses cleanly: CI saw it once in test_code_size, on an unchanged file. The tree
does not depend on that counter, so parsing again is exact.
"""

from __future__ import annotations

import ast


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    try:
        return ast.parse(source, filename=filename)
    except SystemError as exc:
        if "recursion depth mismatch" not in str(exc):
            raise
        return ast.parse(source, filename=filename)
