"""IANA's IKEv2 Transform Types registry on its own (re-exported by registries.py and the
package): crypto/transforms.py builds its algorithm table on it at import, and a command that
reads ESP alone needs no other registry, so it does not create the ~20 others.
"""

from __future__ import annotations

from enum import IntEnum


class TransformType(IntEnum):
    """IKEv2 Transform Types (RFC 7296 3.3.2; RFC 9370 renamed 4 and added 6-12)."""

    ENCR = 1
    PRF = 2
    INTEG = 3
    KE = 4  # "D-H" before RFC 9370
    DH = 4  # alias: RFC 7296's name for type 4
    ESN = 5  # "Sequence Numbers" in later IANA listings; same number
    ADDKE1 = 6
    ADDKE2 = 7
    ADDKE3 = 8
    ADDKE4 = 9
    ADDKE5 = 10
    ADDKE6 = 11
    ADDKE7 = 12
    KWA = 13  # G-IKEv2 key wrap algorithm
    GCAUTH = 14  # G-IKEv2 group controller authentication method


__all__ = ["TransformType"]
