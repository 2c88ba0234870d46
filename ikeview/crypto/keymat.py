"""IKEv2 key derivation: SKEYSEED, the IKE SA keys, Child SA KEYMAT and IKE SA rekeying.

One function per RFC 7296 formula. Key lengths come in as plain ints from the caller (the
transform registry knows them), so this module depends only on the PRF. Every function can fill
an optional ``trace`` list with ``(label, value)`` pairs for a show-secrets view; nothing is
recorded unless the caller passes a list, and the key records hide their values from ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ikeview.crypto.prf import Prf, prf_plus

Trace = list[tuple[str, bytes]]
"""Labelled intermediate values, in the order they were computed."""

_IKE_SPI_LEN = 8
# RFC 7296 section 2.14: a fixed-key PRF takes 64 bits of Ni and 64 bits of Nr as its key.
_FIXED_KEY_NONCE_LEN = 8


@dataclass(frozen=True, slots=True)
class IkeKeys:
    """The seven IKE SA keys of RFC 7296 section 2.14 (i = initiator, r = responder)."""

    skeyseed: bytes = field(repr=False)
    """SKEYSEED the keys were expanded from."""
    sk_d: bytes = field(repr=False)
    """Key for deriving Child SA keys and the next IKE SA's SKEYSEED."""
    sk_ai: bytes = field(repr=False)
    """Integrity key for messages the original initiator sends (empty with AEAD)."""
    sk_ar: bytes = field(repr=False)
    """Integrity key for messages the original responder sends (empty with AEAD)."""
    sk_ei: bytes = field(repr=False)
    """Encryption key (with salt for CTR/GCM/CCM/ChaCha20) for the initiator's messages."""
    sk_er: bytes = field(repr=False)
    """Encryption key (with salt for CTR/GCM/CCM/ChaCha20) for the responder's messages."""
    sk_pi: bytes = field(repr=False)
    """Key for the initiator's AUTH payload (RFC 7296 section 2.15)."""
    sk_pr: bytes = field(repr=False)
    """Key for the responder's AUTH payload."""


@dataclass(frozen=True, slots=True)
class ChildKeys:
    """Child SA keys of RFC 7296 section 2.17, named by direction.

    "i" is the initiator of the exchange that created the Child SA (IKE_AUTH or
    CREATE_CHILD_SA), which need not be the IKE SA's original initiator.
    """

    sk_ei: bytes = field(repr=False)
    """Encryption key (with salt) for initiator-to-responder traffic."""
    sk_ai: bytes = field(repr=False)
    """Integrity key for initiator-to-responder traffic (empty with AEAD)."""
    sk_er: bytes = field(repr=False)
    """Encryption key (with salt) for responder-to-initiator traffic."""
    sk_ar: bytes = field(repr=False)
    """Integrity key for responder-to-initiator traffic (empty with AEAD)."""


def _note(trace: Trace | None, label: str, value: bytes) -> None:
    if trace is not None:
        trace.append((label, value))


def _split(material: bytes, lengths: tuple[int, ...]) -> list[bytes]:
    parts, offset = [], 0
    for n in lengths:
        parts.append(material[offset : offset + n])
        offset += n
    return parts


def _check_lengths(**lengths: int) -> None:
    for name, value in lengths.items():
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")


# RFC 7296 section 2.14:
#   SKEYSEED = prf(Ni | Nr, g^ir)
# "... if the negotiated PRF requires a fixed-length key and the lengths of Ni and Nr do not add
# up to that length ... half the bits must come from Ni and half from Nr, taking the first bits
# of each." For the 128-bit AES PRFs (RFC 4434, RFC 4615) that is 64 bits of each nonce.
def skeyseed(prf: Prf, ni: bytes, nr: bytes, g_ir: bytes, trace: Trace | None = None) -> bytes:
    """SKEYSEED of a new IKE SA from the IKE_SA_INIT nonces and the DH shared secret."""
    n = _FIXED_KEY_NONCE_LEN
    key = ni[:n] + nr[:n] if prf.fixed_key else ni + nr
    _note(trace, "g^ir", g_ir)
    _note(trace, "Ni | Nr (prf key)", key)
    out = prf(key, g_ir)
    _note(trace, "SKEYSEED", out)
    return out


# RFC 7296 section 2.18:
#   SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
# "... it is the old IKE SA's PRF that is used to generate SKEYSEED." Ni and Nr are the nonces
# of the CREATE_CHILD_SA exchange that rekeys the IKE SA.
def skeyseed_rekey(
    old_prf: Prf,
    sk_d_old: bytes,
    g_ir_new: bytes,
    ni: bytes,
    nr: bytes,
    trace: Trace | None = None,
) -> bytes:
    """SKEYSEED of an IKE SA created by rekeying, under the old SA's PRF and SK_d."""
    _note(trace, "SK_d (old)", sk_d_old)
    _note(trace, "g^ir (new)", g_ir_new)
    out = old_prf(sk_d_old, g_ir_new + ni + nr)
    _note(trace, "SKEYSEED", out)
    return out


# RFC 7296 section 2.14:
#   {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
#                                      = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
# SK_d, SK_pi and SK_pr are as long as the PRF's preferred key size; SK_a* as the integrity
# key (none with an AEAD cipher); SK_e* as the cipher key plus its salt.
def ike_keys_from_skeyseed(
    prf: Prf,
    skeyseed_value: bytes,
    ni: bytes,
    nr: bytes,
    spi_i: bytes,
    spi_r: bytes,
    *,
    encr_key_len: int,
    integ_key_len: int,
    trace: Trace | None = None,
) -> IkeKeys:
    """Expand SKEYSEED into the seven IKE SA keys.

    ``encr_key_len`` includes the salt of CTR/GCM/CCM/ChaCha20 ciphers; ``integ_key_len`` is 0
    for AEAD ciphers. ``spi_i``/``spi_r`` are the 8-octet SPIs of the SA being keyed.
    """
    _check_lengths(encr_key_len=encr_key_len, integ_key_len=integ_key_len)
    for name, spi in (("SPIi", spi_i), ("SPIr", spi_r)):
        if len(spi) != _IKE_SPI_LEN:
            raise ValueError(f"{name} must be {_IKE_SPI_LEN} octets, got {len(spi)}")
    p, a, e = prf.key_len, integ_key_len, encr_key_len
    lengths = (p, a, a, e, e, p, p)
    material = prf_plus(prf, skeyseed_value, ni + nr + spi_i + spi_r, sum(lengths))
    sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr = _split(material, lengths)
    keys = IkeKeys(skeyseed_value, sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr)
    if trace is not None:
        for label in ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr"):
            trace.append((label.replace("sk_", "SK_"), getattr(keys, label)))
    return keys


def derive_ike_keys(
    prf: Prf,
    g_ir: bytes,
    ni: bytes,
    nr: bytes,
    spi_i: bytes,
    spi_r: bytes,
    *,
    encr_key_len: int,
    integ_key_len: int,
    trace: Trace | None = None,
) -> IkeKeys:
    """Keys of an IKE SA set up by IKE_SA_INIT (RFC 7296 section 2.14)."""
    seed = skeyseed(prf, ni, nr, g_ir, trace)
    return ike_keys_from_skeyseed(
        prf,
        seed,
        ni,
        nr,
        spi_i,
        spi_r,
        encr_key_len=encr_key_len,
        integ_key_len=integ_key_len,
        trace=trace,
    )


def derive_rekeyed_ike_keys(
    old_prf: Prf,
    sk_d_old: bytes,
    new_prf: Prf,
    g_ir_new: bytes,
    ni: bytes,
    nr: bytes,
    spi_i: bytes,
    spi_r: bytes,
    *,
    encr_key_len: int,
    integ_key_len: int,
    trace: Trace | None = None,
) -> IkeKeys:
    """Keys of the IKE SA created by a rekeying CREATE_CHILD_SA (RFC 7296 section 2.18).

    SKEYSEED uses the old SA's PRF and SK_d; the expansion uses the new SA's PRF, the
    exchange's nonces and the new SPIs (``spi_i`` from the exchange's initiator).
    """
    seed = skeyseed_rekey(old_prf, sk_d_old, g_ir_new, ni, nr, trace)
    return ike_keys_from_skeyseed(
        new_prf,
        seed,
        ni,
        nr,
        spi_i,
        spi_r,
        encr_key_len=encr_key_len,
        integ_key_len=integ_key_len,
        trace=trace,
    )


# RFC 7296 section 2.17:
#   KEYMAT = prf+(SK_d, Ni | Nr)                  (IKE_AUTH, or CREATE_CHILD_SA without KE)
#   KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr)     (CREATE_CHILD_SA with KE payloads)
# "All keys for SAs carrying data from the initiator to the responder are taken before SAs going
# from the responder to the initiator", and per direction the encryption key comes first.
def derive_child_keys(
    prf: Prf,
    sk_d: bytes,
    ni: bytes,
    nr: bytes,
    *,
    encr_key_len: int,
    integ_key_len: int,
    g_ir_new: bytes | None = None,
    trace: Trace | None = None,
) -> ChildKeys:
    """KEYMAT of one Child SA pair (ESP/AH), split by direction.

    ``ni``/``nr`` are the nonces of the exchange that created the Child SA (for the first Child
    SA, the IKE_SA_INIT nonces). ``g_ir_new`` is the CREATE_CHILD_SA DH secret when PFS was used.
    """
    _check_lengths(encr_key_len=encr_key_len, integ_key_len=integ_key_len)
    seed = (g_ir_new or b"") + ni + nr
    if g_ir_new is not None:
        _note(trace, "g^ir (new)", g_ir_new)
    e, a = encr_key_len, integ_key_len
    lengths = (e, a, e, a)
    material = prf_plus(prf, sk_d, seed, sum(lengths))
    _note(trace, "KEYMAT", material)
    sk_ei, sk_ai, sk_er, sk_ar = _split(material, lengths)
    _note(trace, "encr i->r", sk_ei)
    _note(trace, "integ i->r", sk_ai)
    _note(trace, "encr r->i", sk_er)
    _note(trace, "integ r->i", sk_ar)
    return ChildKeys(sk_ei, sk_ai, sk_er, sk_ar)
