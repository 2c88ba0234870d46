"""The one place capture-derived text is made safe to draw (identities, vendor names, cert
subjects, problem texts): C0/C1 controls, ESC and bidi overrides would otherwise reach the
terminal. The rule itself is the core's (``ikeview.textsafe``), shared with the CLI.
"""

from __future__ import annotations

from ikeview.textsafe import printable


def clean(text: str) -> str:
    """``text`` with every control character escaped visibly (ESC -> ``\\x1b``)."""
    return printable(text)
