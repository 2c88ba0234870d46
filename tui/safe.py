"""The one place capture-derived text is made safe to draw (identities, vendor names, cert
subjects, problem texts): C0/C1 control characters and ESC would otherwise reach the terminal.

Every such string in the TUI goes through ``clean`` so that the core's sanitiser (planned in
``ikeview/textsafe.py``) can replace this body in one edit.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 (but tab and newline), DEL, C1, and bidi/zero-width controls that reorder what is shown."""


def clean(text: str) -> str:
    """``text`` with every control character replaced by ``�`` (tab and newline become spaces)."""
    text = text.replace("\t", " ").replace("\n", " ")
    return _CONTROL.sub("\ufffd", text)
