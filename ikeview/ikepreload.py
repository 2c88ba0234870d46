"""The IKE side imported once before ``--jobs`` forks its workers (``ikeview.parallel``).

Start-up loads none of the IKE machinery (parser, correlator's IKE half, model, the decryptor's
key derivation): a capture imports it with its first IKE message. Under ``--jobs`` that import
would then happen in every process after the fork, ~0.1 s of CPU each (measured: 200,000
packets of make_capture.py's mix, ``report --jobs 2`` cost 0.29 s more CPU than one pass, ~0.07
s with the import done once before the fork). Without keys, on a classic pcap without
``--ports``, the later ranges parse no IKE (``ikeview.parunlocated``), so nothing is preloaded:
the first range's process imports the IKE side with its first IKE message, while the others
run."""

from __future__ import annotations

import importlib
import itertools

from ikeview.dissectors.capture import CaptureError, read_capture
from ikeview.dissectors.stream import Dissector, DissectStats

_IKE_SIDE = (
    "ikeview.dissectors.ikev2",
    "ikeview.pipeline.correlate.messages",
    "ikeview.pipeline.model",
)
"""What a capture with IKE imports on its first IKE message."""
_IKE_KEYS_SIDE = (
    "ikeview.pipeline.dec_ike",
    "ikeview.pipeline.dec_dh",
    "ikeview.pipeline.dec_auth",
)
"""The same for the decryptor's IKE half, when keys are given."""


_IKE_PEEK = 2000
"""Frames read from the start of the capture to see whether it carries IKE (a tunnel captured
from its start begins with IKE_SA_INIT)."""


def _ike_early(name: str) -> bool:
    """Whether the capture's first frames carry IKE (a tunnel captured from its start begins
    with IKE_SA_INIT). Only then is the IKE side imported before the fork: a capture of ESP
    alone (keys given per SA) never needs it, and importing it anyway would add ~0.09 s before
    the fork for nothing. IKE met later is imported by each process then, as in one pass."""
    from ikeview.dissectors.records import IkeDatagram

    try:
        with read_capture(name) as reader:
            frames = itertools.islice(reader, _IKE_PEEK)
            dissector = Dissector(stats=DissectStats())
            return any(isinstance(rec, IkeDatagram) for rec in dissector.run(frames))
    except (CaptureError, OSError):
        return False  # the split itself will say what is wrong with the file


def preload_ike(name: str, *, keys: bool = False, parser_only: bool = False) -> None:
    """Import the IKE side (with ``keys`` the decryptor's half too; ``parser_only``: only the
    dissector's IKE parser, all ``summary`` needs) when the capture's first frames carry IKE."""
    if not _ike_early(name):
        return
    if parser_only:
        importlib.import_module(_IKE_SIDE[0])
        return
    import_ike_side(keys=keys)


def import_ike_side(*, keys: bool = False) -> None:
    """Import the IKE side now (with ``keys`` the decryptor's half too): ``decrypt --jobs``'s
    later ranges do it while they first wait for the earlier ranges' IKE (``parhandoff``)."""
    for module in _IKE_SIDE + (_IKE_KEYS_SIDE if keys else ()):
        importlib.import_module(module)


__all__ = ["import_ike_side", "preload_ike"]
