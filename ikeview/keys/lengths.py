"""Which lengths key material in a keys file may have, so that a wrong one is named where it
is written (file:line) instead of silently failing to decrypt later.

Lengths come from the transform table (ikeview.crypto.transforms): a DH shared secret g^ir is
as long as the group's prime for MODP (RFC 7296 3.4, leading zeros kept), the x coordinate for
ECP (RFC 5903 7) and the u coordinate for Curve25519/448 (RFC 8031 2); an ESP encryption key
is key plus salt (RFC 4106 8.1, RFC 3686 5.1, RFC 7634 2), an integrity key the MAC's key.
"""

from __future__ import annotations

from functools import cache

from ikeview.crypto.transforms import (
    TRANSFORMS,
    TransformType,
    UnsupportedTransform,
    lookup,
)


@cache
def dh_secret_lengths() -> dict[int, tuple[str, ...]]:
    """Shared-secret octets -> the DH groups whose g^ir has that length."""
    out: dict[int, list[str]] = {}
    for spec in TRANSFORMS.values():
        if spec.type is not TransformType.DH:
            continue
        # ECP (RFC 5903 7): the public value is x|y and g^ir is x alone; MODP and the
        # Curve25519/448 u coordinate (RFC 8031 2) are as long as the public value.
        whole = not spec.short_name.startswith("ECP_")
        n = spec.dh_public_len if whole else spec.dh_public_len // 2
        out.setdefault(n, []).append(spec.short_name)
    return {n: tuple(names) for n, names in sorted(out.items())}


def dh_secret_problem(secret: bytes) -> str | None:
    """Why ``secret`` cannot be any group's g^ir, or None when its length fits a group."""
    n = len(secret)
    sizes = dh_secret_lengths()
    if n in sizes:
        return None
    hint = ""
    if n + 1 in sizes:
        hint = f" (one byte short of {n + 1}: if its first byte is 00, write that 00 too)"
    return (
        f"is {n} bytes{hint}; a DH g^ir is as long as its group: "
        + ", ".join(str(k) for k in sizes)
        + " bytes"
    )


def esp_key_problem(key: bytes, ttype: int, alg: int | None, bits: int | None) -> str | None:
    """Why ``key`` does not fit ESP transform (``ttype`` 1 ENCR or 3 INTEG) ``alg``; None if
    it fits or the algorithm is not named (the capture then decides)."""
    if alg is None:
        return None
    try:
        spec = lookup(ttype, alg, bits)
    except UnsupportedTransform:
        return None
    want = spec.keymat_len
    if len(key) == want:
        return None
    parts = f" ({spec.key_len} key + {spec.salt_len} salt)" if spec.salt_len else ""
    return f"is {len(key)} bytes; {spec.short_name} needs {want}{parts}"


__all__ = ["dh_secret_lengths", "dh_secret_problem", "esp_key_problem"]
