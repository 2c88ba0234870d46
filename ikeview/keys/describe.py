"""One masked line per key record, for ``ikeview keys`` and reports: lengths, never values."""

from __future__ import annotations

from ikeview.iana.names import encr_name, integ_name, prf_name
from ikeview.keys.model import SK_FIELDS, DhSecret, EspKeys, IkeSaKeys, KeyRing, Psk


def _psk(n: int, p: Psk) -> str:
    scope = [f"peer={p.peer}"] if p.peer else []
    scope += [f"id={p.id}"] if p.id else []
    where = ", scope " + " ".join(scope) if scope else ", any peer"
    return f"psk #{n} ({p.source}) {len(p.secret)} bytes{where}"


def _dh(n: int, d: DhSecret) -> str:
    if d.shared_secret is not None:
        what = f"g^ir {len(d.shared_secret)} bytes"
    else:
        what = f"private key {len(d.private_key or b'')} bytes"
    ike = f"SPIi {d.spi_i.hex()}" if d.spi_i is not None else "any IKE SA"
    if d.child:
        child = f"child SA {d.child_spi:08x}" if d.child_spi is not None else "any PFS child SA"
        return f"dh #{n} ({d.source}) {what} for {child} of {ike}"
    return f"dh #{n} ({d.source}) {what} for {ike}"


def _algorithms(k: IkeSaKeys | EspKeys, prf: int | None = None) -> str:
    """`` [AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256]`` of what is known, else ``""``."""
    algs = []
    if k.encr is not None:
        algs.append(encr_name(k.encr, k.encr_key_bits))
    if k.integ is not None:
        algs.append(integ_name(k.integ))
    elif k.icv_unchecked:
        algs.append(f"unchecked {k.icv_unchecked}-byte ICV")
    if prf is not None:
        algs.append(prf_name(prf))
    return f" [{'/'.join(algs)}]" if algs else ""


def _ike(n: int, k: IkeSaKeys) -> str:
    have = [f"SK_{name[3:]}:{len(v)}" for name in SK_FIELDS if (v := getattr(k, name))]
    keys = " ".join(have) or "none"
    alg = _algorithms(k, k.prf)
    return f"ike_sa #{n} ({k.source}) {k.spi_i.hex()}/{k.spi_r.hex()} keys {keys}{alg}"


def _esp(n: int, e: EspKeys) -> str:
    have = []
    if e.encr_key is not None:
        have.append(f"encr:{len(e.encr_key)}")
    if e.integ_key is not None:
        have.append(f"integ:{len(e.integ_key)}")
    alg = _algorithms(e)
    addrs = f" {e.src or '*'} -> {e.dst or '*'}" if e.src or e.dst else ""
    return f"esp #{n} ({e.source}) SPI {e.spi:08x}{addrs} keys {' '.join(have) or 'none'}{alg}"


def describe(keyring: KeyRing) -> list[str]:
    """A one-line, secret-free summary of each record, numbered per kind from 1."""
    lines = [_psk(i, p) for i, p in enumerate(keyring.psks, 1)]
    lines += [_dh(i, d) for i, d in enumerate(keyring.dh_secrets, 1)]
    lines += [_ike(i, k) for i, k in enumerate(keyring.ike_sas, 1)]
    lines += [_esp(i, e) for i, e in enumerate(keyring.esp_sas, 1)]
    lines += [
        f"eap #{i} ({e.source}) identity {e.identity!r}, password {len(e.password)} characters"
        for i, e in enumerate(keyring.eap_secrets, 1)
    ]
    return lines
