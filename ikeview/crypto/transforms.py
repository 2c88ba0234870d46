"""The IKEv2 transform registry: one frozen row per (transform type, IANA id, key bits).

IANA "Internet Key Exchange Version 2 (IKEv2) Parameters", Transform Type Values (RFC 7296
section 3.3.2) and the per-type registries. Ids are the IANA numbers, never private ones. Each
ENCR/INTEG row also carries the algorithm label Wireshark 4.0's ``ikev2_decryption_table`` and
``esp_sa`` tables accept, so key tables can be exported without a second lookup table.
Lengths are in octets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ikeview.iana.transform_type import TransformType as TransformType

# TransformType is IANA's registry from ikeview.iana (re-exported here for the callers that
# import it with the table). Rows use ENCR, PRF, INTEG, DH (IANA's KE, type 4) and ESN.


class UnsupportedTransform(LookupError):
    """No registry row for a (type, id, key bits) combination."""

    def __init__(self, ttype: int, transform_id: int, key_bits: int | None, why: str = "") -> None:
        self.ttype = ttype
        self.transform_id = transform_id
        self.key_bits = key_bits
        tname = TransformType(ttype).name if ttype in TransformType._value2member_map_ else ttype
        bits = "" if key_bits is None else f", key length {key_bits} bits"
        detail = f" ({why})" if why else ""
        super().__init__(f"unsupported transform: type {tname} id {transform_id}{bits}{detail}")


class KeyLengthError(ValueError):
    """Key material of the wrong length for a transform."""


@dataclass(frozen=True, slots=True)
class TransformSpec:
    """One IKEv2/ESP transform with every length a decoder needs."""

    type: TransformType
    """Transform type (ENCR, PRF, INTEG, DH, ESN): the IANA registry of ikeview.iana."""
    id: int
    """IANA transform id within its type."""
    key_bits: int | None
    """Key length in bits as negotiated (Key Length attribute); None where it is not a choice."""
    name: str
    """IANA name, e.g. ENCR_AES_GCM_16."""
    short_name: str
    """Compact name for the UI, e.g. AES-GCM-16-256."""
    rfc: str
    """Defining RFC."""
    key_len: int = 0
    """Cipher or MAC key octets, without salt (PRF: the preferred key size)."""
    salt_len: int = 0
    """Octets of salt/nonce taken from the end of the keying material (CTR, GCM, CCM, ChaCha)."""
    iv_len: int = 0
    """Explicit IV octets carried in each SK payload / ESP packet."""
    icv_len: int = 0
    """ICV octets: the AEAD tag (ENCR) or the truncated MAC (INTEG)."""
    block_len: int = 1
    """Cipher block size: the payload plus padding must be a multiple of it (1 = stream)."""
    aead: bool = False
    """Combined-mode cipher that needs no INTEG transform."""
    output_len: int = 0
    """PRF output octets; for INTEG the untruncated MAC size."""
    dh_public_len: int = 0
    """DH: octets of the Key Exchange Data (public value)."""
    ws_ikev2_label: str | None = None
    """Wireshark 4.0 ikev2_decryption_table algorithm label; None if Wireshark lacks it."""
    ws_esp_label: str | None = None
    """Wireshark 4.0 esp_sa algorithm label; None if Wireshark lacks it."""

    @property
    def keymat_len(self) -> int:
        """Octets of KEYMAT/SK_e* to draw for this transform (RFC 7296 section 2.17)."""
        return self.key_len + self.salt_len


# Short aliases keep the table rows on one line each.
_E, _P, _I, _D, _N = (
    TransformType.ENCR,
    TransformType.PRF,
    TransformType.INTEG,
    TransformType.DH,
    TransformType.ESN,
)


def _encr_rows() -> list[TransformSpec]:
    rows = [
        # RFC 2410: ENCR_NULL, no IV, no padding alignment beyond 4 octets for ESP.
        TransformSpec(
            _E, 11, None, "ENCR_NULL", "NULL", "RFC 2410",
            ws_ikev2_label="NULL [RFC2410]", ws_esp_label="NULL",
        ),
        # RFC 2451: 3DES-CBC, 24-octet key (K1|K2|K3), 8-octet IV and block.
        TransformSpec(
            _E, 3, 192, "ENCR_3DES", "3DES", "RFC 2451", key_len=24, iv_len=8, block_len=8,
            ws_ikev2_label="3DES [RFC2451]", ws_esp_label="TripleDES-CBC [RFC2451]",
        ),
        # RFC 7634: ChaCha20-Poly1305, 256-bit key plus 4-octet salt, 8-octet IV, 16-octet tag.
        TransformSpec(
            _E, 28, 256, "ENCR_CHACHA20_POLY1305", "CHACHA20-POLY1305", "RFC 7634",
            key_len=32, salt_len=4, iv_len=8, icv_len=16, aead=True,
        ),
    ]  # fmt: skip
    for bits in (128, 192, 256):
        k = bits // 8
        rows += [
            # RFC 3602 (ESP) / RFC 7296: AES-CBC, 16-octet IV and block.
            TransformSpec(
                _E, 12, bits, "ENCR_AES_CBC", f"AES-CBC-{bits}", "RFC 3602",
                key_len=k, iv_len=16, block_len=16,
                ws_ikev2_label=f"AES-CBC-{bits} [RFC3602]", ws_esp_label="AES-CBC [RFC3602]",
            ),
            # RFC 3686 (ESP) / RFC 5930 (IKEv2): AES-CTR, 4-octet nonce after the key.
            TransformSpec(
                _E, 13, bits, "ENCR_AES_CTR", f"AES-CTR-{bits}", "RFC 3686",
                key_len=k, salt_len=4, iv_len=8,
                ws_ikev2_label=f"AES-CTR-{bits} [RFC5930]", ws_esp_label="AES-CTR [RFC3686]",
            ),
            # RFC 4543: ENCR_NULL_AUTH_AES_GMAC, authentication only, whole payload is AAD.
            TransformSpec(
                _E, 21, bits, "ENCR_NULL_AUTH_AES_GMAC", f"AES-GMAC-{bits}", "RFC 4543",
                key_len=k, salt_len=4, iv_len=8, icv_len=16, aead=True,
            ),
        ]  # fmt: skip
        # RFC 4309 (ESP) / RFC 5282 (IKEv2): AES-CCM with a 3-octet salt.
        for tid, icv in ((14, 8), (15, 12), (16, 16)):
            rows.append(
                TransformSpec(
                    _E, tid, bits, f"ENCR_AES_CCM_{icv}", f"AES-CCM-{icv}-{bits}", "RFC 4309",
                    key_len=k, salt_len=3, iv_len=8, icv_len=icv, aead=True,
                    ws_ikev2_label=f"AES-CCM-{bits} with {icv} octet ICV [RFC5282]",
                )
            )  # fmt: skip
        # RFC 4106 (ESP) / RFC 5282 (IKEv2): AES-GCM with a 4-octet salt.
        for tid, icv in ((18, 8), (19, 12), (20, 16)):
            rows.append(
                TransformSpec(
                    _E, tid, bits, f"ENCR_AES_GCM_{icv}", f"AES-GCM-{icv}-{bits}", "RFC 4106",
                    key_len=k, salt_len=4, iv_len=8, icv_len=icv, aead=True,
                    ws_ikev2_label=f"AES-GCM-{bits} with {icv} octet ICV [RFC5282]",
                    ws_esp_label=f"AES-GCM with {icv} octet ICV [RFC4106]",
                )
            )  # fmt: skip
    return rows


# RFC 7296 section 3.3.2 Transform Type 2; PRF key lengths are the preferred key sizes.
_PRF_ROWS = [
    TransformSpec(_P, 1, None, "PRF_HMAC_MD5", "HMAC-MD5", "RFC 2104", key_len=16, output_len=16),
    TransformSpec(_P, 2, None, "PRF_HMAC_SHA1", "HMAC-SHA1", "RFC 2104", key_len=20, output_len=20),
    TransformSpec(
        _P, 4, None, "PRF_AES128_XCBC", "AES-XCBC-PRF-128", "RFC 4434", key_len=16, output_len=16
    ),
    TransformSpec(
        _P, 5, None, "PRF_HMAC_SHA2_256", "HMAC-SHA2-256", "RFC 4868", key_len=32, output_len=32
    ),
    TransformSpec(
        _P, 6, None, "PRF_HMAC_SHA2_384", "HMAC-SHA2-384", "RFC 4868", key_len=48, output_len=48
    ),
    TransformSpec(
        _P, 7, None, "PRF_HMAC_SHA2_512", "HMAC-SHA2-512", "RFC 4868", key_len=64, output_len=64
    ),
    TransformSpec(
        _P, 8, None, "PRF_AES128_CMAC", "AES-CMAC-PRF-128", "RFC 4615", key_len=16, output_len=16
    ),
]

# RFC 7296 section 3.3.2 Transform Type 3. icv_len is the truncated length sent on the wire.
_INTEG_ROWS = [
    TransformSpec(
        _I, 0, None, "NONE", "NONE", "RFC 7296",
        ws_ikev2_label="NONE [RFC4306]", ws_esp_label="NULL",
    ),
    TransformSpec(
        _I, 1, None, "AUTH_HMAC_MD5_96", "HMAC-MD5-96", "RFC 2403",
        key_len=16, icv_len=12, output_len=16,
        ws_ikev2_label="HMAC_MD5_96 [RFC2403]", ws_esp_label="HMAC-MD5-96 [RFC2403]",
    ),
    TransformSpec(
        _I, 2, None, "AUTH_HMAC_SHA1_96", "HMAC-SHA1-96", "RFC 2404",
        key_len=20, icv_len=12, output_len=20,
        ws_ikev2_label="HMAC_SHA1_96 [RFC2404]", ws_esp_label="HMAC-SHA-1-96 [RFC2404]",
    ),
    TransformSpec(
        _I, 5, None, "AUTH_AES_XCBC_96", "AES-XCBC-96", "RFC 3566",
        key_len=16, icv_len=12, output_len=16,
    ),
    # RFC 4595: the full-length HMACs used by some IKEv2 peers (Wireshark's 3DES test capture).
    TransformSpec(
        _I, 6, None, "AUTH_HMAC_MD5_128", "HMAC-MD5-128", "RFC 4595",
        key_len=16, icv_len=16, output_len=16, ws_ikev2_label="HMAC_MD5_128 [RFC4595]",
    ),
    TransformSpec(
        _I, 7, None, "AUTH_HMAC_SHA1_160", "HMAC-SHA1-160", "RFC 4595",
        key_len=20, icv_len=20, output_len=20, ws_ikev2_label="HMAC_SHA1_160 [RFC4595]",
    ),
    TransformSpec(
        _I, 8, None, "AUTH_AES_CMAC_96", "AES-CMAC-96", "RFC 4494",
        key_len=16, icv_len=12, output_len=16,
    ),
    TransformSpec(
        _I, 12, None, "AUTH_HMAC_SHA2_256_128", "HMAC-SHA2-256-128", "RFC 4868",
        key_len=32, icv_len=16, output_len=32,
        ws_ikev2_label="HMAC_SHA2_256_128 [RFC4868]", ws_esp_label="HMAC-SHA-256-128 [RFC4868]",
    ),
    TransformSpec(
        _I, 13, None, "AUTH_HMAC_SHA2_384_192", "HMAC-SHA2-384-192", "RFC 4868",
        key_len=48, icv_len=24, output_len=48,
        ws_ikev2_label="HMAC_SHA2_384_192 [RFC4868]", ws_esp_label="HMAC-SHA-384-192 [RFC4868]",
    ),
    TransformSpec(
        _I, 14, None, "AUTH_HMAC_SHA2_512_256", "HMAC-SHA2-512-256", "RFC 4868",
        key_len=64, icv_len=32, output_len=64,
        ws_ikev2_label="HMAC_SHA2_512_256 [RFC4868]", ws_esp_label="HMAC-SHA-512-256 [RFC4868]",
    ),
]  # fmt: skip


def _dh(gid: int, name: str, short: str, rfc: str, public_len: int) -> TransformSpec:
    return TransformSpec(_D, gid, None, name, short, rfc, dh_public_len=public_len)


# RFC 7296 section 3.3.2 Transform Type 4 (IANA names). Public value length: MODP = prime
# octets (RFC 7296 3.4); ECP = x|y (RFC 5903 section 7); Curve25519/448 = u (RFC 8031 2).
_DH_ROWS = [
    _dh(1, "768-bit MODP Group", "MODP_768", "RFC 2409", 96),
    _dh(2, "1024-bit MODP Group", "MODP_1024", "RFC 2409", 128),
    _dh(5, "1536-bit MODP Group", "MODP_1536", "RFC 3526", 192),
    _dh(14, "2048-bit MODP Group", "MODP_2048", "RFC 3526", 256),
    _dh(15, "3072-bit MODP Group", "MODP_3072", "RFC 3526", 384),
    _dh(16, "4096-bit MODP Group", "MODP_4096", "RFC 3526", 512),
    _dh(17, "6144-bit MODP Group", "MODP_6144", "RFC 3526", 768),
    _dh(18, "8192-bit MODP Group", "MODP_8192", "RFC 3526", 1024),
    _dh(19, "256-bit random ECP group", "ECP_256", "RFC 5903", 64),
    _dh(20, "384-bit random ECP group", "ECP_384", "RFC 5903", 96),
    _dh(21, "521-bit random ECP group", "ECP_521", "RFC 5903", 132),
    _dh(22, "1024-bit MODP Group with 160-bit Prime Order Subgroup",
        "MODP_1024_160", "RFC 5114", 128),
    _dh(23, "2048-bit MODP Group with 224-bit Prime Order Subgroup",
        "MODP_2048_224", "RFC 5114", 256),
    _dh(24, "2048-bit MODP Group with 256-bit Prime Order Subgroup",
        "MODP_2048_256", "RFC 5114", 256),
    _dh(25, "192-bit Random ECP Group", "ECP_192", "RFC 5114", 48),
    _dh(26, "224-bit Random ECP Group", "ECP_224", "RFC 5114", 56),
    _dh(27, "brainpoolP224r1", "ECP_224_BP", "RFC 6954", 56),
    _dh(28, "brainpoolP256r1", "ECP_256_BP", "RFC 6954", 64),
    _dh(29, "brainpoolP384r1", "ECP_384_BP", "RFC 6954", 96),
    _dh(30, "brainpoolP512r1", "ECP_512_BP", "RFC 6954", 128),
    _dh(31, "Curve25519", "CURVE_25519", "RFC 8031", 32),
    _dh(32, "Curve448", "CURVE_448", "RFC 8031", 56),
]  # fmt: skip

# RFC 7296 section 3.3.2 Transform Type 5.
_ESN_ROWS = [
    TransformSpec(_N, 0, None, "No Extended Sequence Numbers", "NO_ESN", "RFC 7296"),
    TransformSpec(_N, 1, None, "Extended Sequence Numbers", "ESN", "RFC 7296"),
]

TRANSFORMS: dict[tuple[TransformType, int, int | None], TransformSpec] = {
    (row.type, row.id, row.key_bits): row
    for row in (*_encr_rows(), *_PRF_ROWS, *_INTEG_ROWS, *_DH_ROWS, *_ESN_ROWS)
}
"""The registry, keyed by (type, IANA id, key bits or None)."""

_BY_TYPE_ID: dict[tuple[TransformType, int], tuple[TransformSpec, ...]] = {}
for _row in TRANSFORMS.values():
    _BY_TYPE_ID[(_row.type, _row.id)] = (*_BY_TYPE_ID.get((_row.type, _row.id), ()), _row)
del _row


def lookup(ttype: int, transform_id: int, key_bits: int | None = None) -> TransformSpec:
    """The row for a negotiated transform; raises UnsupportedTransform naming type and id.

    ``key_bits`` is the Key Length attribute (RFC 7296 section 3.3.5). It may be omitted for
    transforms with a single key size (3DES, ChaCha20, all PRF/INTEG/DH); AES needs it.
    """
    try:
        ttype = TransformType(ttype)
    except ValueError:
        raise UnsupportedTransform(
            ttype, transform_id, key_bits, "unknown transform type"
        ) from None
    rows = _BY_TYPE_ID.get((ttype, transform_id))
    if not rows:
        raise UnsupportedTransform(ttype, transform_id, key_bits)
    for row in rows:
        if row.key_bits == key_bits:
            return row
    if len(rows) == 1 and (key_bits is None or rows[0].key_bits is None):
        # Fixed-size transform: an absent or redundant Key Length attribute is fine.
        return rows[0]
    sizes = sorted(r.key_bits for r in rows if r.key_bits is not None)
    why = "needs a key length" if key_bits is None else f"key length must be one of {sizes}"
    raise UnsupportedTransform(ttype, transform_id, key_bits, why)


def encr_spec(encr: int, key_bits: int | None, keymat: bytes | None = None) -> TransformSpec:
    """The ENCR row; the key length is read off the keying material when not given."""
    try:
        return lookup(TransformType.ENCR, encr, key_bits)
    except UnsupportedTransform:
        if key_bits is not None or keymat is None:
            raise
    for row in TRANSFORMS.values():
        if row.type is TransformType.ENCR and row.id == encr and row.keymat_len == len(keymat):
            return row
    raise UnsupportedTransform(TransformType.ENCR, encr, None, f"no {len(keymat)}-octet key")


def integ_spec(integ: int | None, icv_unchecked: int | None = None) -> TransformSpec | None:
    """The INTEG row; with only an unchecked ICV length, a row of that ICV length (no key)."""
    if integ is None and icv_unchecked is not None:
        for row in TRANSFORMS.values():
            if row.type is TransformType.INTEG and row.icv_len == icv_unchecked:
                return row
        raise UnsupportedTransform(TransformType.INTEG, 0, None, f"no {icv_unchecked}-octet ICV")
    if integ is None or integ == 0:
        return None
    return lookup(TransformType.INTEG, integ)


def is_aead(spec: TransformSpec) -> bool:
    """True for combined-mode ENCR transforms (GCM, CCM, ChaCha20-Poly1305, GMAC)."""
    return spec.type is TransformType.ENCR and spec.aead


def is_null_encryption(spec: TransformSpec) -> bool:
    """True when the payload travels in the clear (ENCR_NULL, ENCR_NULL_AUTH_AES_GMAC)."""
    return spec.type is TransformType.ENCR and spec.id in (11, 21)


def by_id(
    ttype: TransformType,
    attr: str,
    only: Callable[[TransformSpec], bool] = lambda row: True,
) -> dict[int, int]:
    """``{IANA id: row.<attr>}`` over the rows of one type that ``only`` accepts.

    For the tables other layers index by id alone (salts, ICV and key lengths of a Wireshark
    label or a key file): these lengths do not depend on the key size, so every row of an id
    gives the same value.
    """
    out: dict[int, int] = {}
    for row in TRANSFORMS.values():
        if row.type is ttype and only(row):
            out.setdefault(row.id, getattr(row, attr))
    return out


def by_wireshark_label(ttype: int, label: str, *, esp: bool = False) -> tuple[TransformSpec, ...]:
    """Rows whose Wireshark IKEv2 (or ESP, ``esp=True``) table label is ``label``.

    ESP labels like "AES-CBC [RFC3602]" leave the key size open, so several rows can match;
    the caller picks by key length.
    """
    attr = "ws_esp_label" if esp else "ws_ikev2_label"
    return tuple(
        row for row in TRANSFORMS.values() if row.type == ttype and getattr(row, attr) == label
    )
