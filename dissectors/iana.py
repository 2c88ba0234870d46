"""The IANA registries, re-exported from :mod:`ikeview.iana` (their home since issue 13).

Kept so that ``from ikeview.dissectors import iana`` and ``ikeview.dissectors.iana.NotifyType``
go on working; new code imports :mod:`ikeview.iana`.
"""

from __future__ import annotations

# The one name list is ikeview.iana's: a star import takes exactly the names in its __all__.
from ikeview.iana import *  # noqa: F403
from ikeview.iana import __all__ as __all__
