"""transforms.py: the registry rows, lookup rules, and the Wireshark labels the rows carry."""

from __future__ import annotations

from pathlib import Path

import pytest

from ikeview.crypto.transforms import (
    TRANSFORMS,
    TransformType,
    UnsupportedTransform,
    by_wireshark_label,
    is_aead,
    is_null_encryption,
    lookup,
)

ENCR, PRF, INTEG, DH, ESN = (
    TransformType.ENCR,
    TransformType.PRF,
    TransformType.INTEG,
    TransformType.DH,
    TransformType.ESN,
)


def test_every_required_id_is_present() -> None:
    for tid in (12, 13, 14, 15, 16, 18, 19, 20, 21):
        for bits in (128, 192, 256):
            assert lookup(ENCR, tid, bits).key_len == bits // 8
    for tid in (3, 11, 28):
        lookup(ENCR, tid)
    for tid in (1, 2, 4, 5, 6, 7, 8):
        assert lookup(PRF, tid).output_len > 0
    for tid in (0, 1, 2, 5, 8, 12, 13, 14):
        lookup(INTEG, tid)
    for gid in (1, 2, 5, *range(14, 33)):
        assert lookup(DH, gid).dh_public_len > 0
    assert {lookup(ESN, 0).id, lookup(ESN, 1).id} == {0, 1}


@pytest.mark.parametrize(
    ("ttype", "tid", "bits", "name", "short", "keymat", "iv", "icv", "block"),
    [
        # Lengths from the RFCs named in each row (RFC 4106/4309/3686/7634/2451/3602).
        (ENCR, 20, 256, "ENCR_AES_GCM_16", "AES-GCM-16-256", 36, 8, 16, 1),
        (ENCR, 18, 128, "ENCR_AES_GCM_8", "AES-GCM-8-128", 20, 8, 8, 1),
        (ENCR, 15, 128, "ENCR_AES_CCM_12", "AES-CCM-12-128", 19, 8, 12, 1),
        (ENCR, 13, 192, "ENCR_AES_CTR", "AES-CTR-192", 28, 8, 0, 1),
        (ENCR, 12, 256, "ENCR_AES_CBC", "AES-CBC-256", 32, 16, 0, 16),
        (ENCR, 3, None, "ENCR_3DES", "3DES", 24, 8, 0, 8),
        (ENCR, 28, None, "ENCR_CHACHA20_POLY1305", "CHACHA20-POLY1305", 36, 8, 16, 1),
        (ENCR, 21, 128, "ENCR_NULL_AUTH_AES_GMAC", "AES-GMAC-128", 20, 8, 16, 1),
        (ENCR, 11, None, "ENCR_NULL", "NULL", 0, 0, 0, 1),
        (INTEG, 12, None, "AUTH_HMAC_SHA2_256_128", "HMAC-SHA2-256-128", 32, 0, 16, 1),
        (INTEG, 14, None, "AUTH_HMAC_SHA2_512_256", "HMAC-SHA2-512-256", 64, 0, 32, 1),
        (INTEG, 5, None, "AUTH_AES_XCBC_96", "AES-XCBC-96", 16, 0, 12, 1),
    ],
)
def test_row_lengths(ttype, tid, bits, name, short, keymat, iv, icv, block) -> None:
    spec = lookup(ttype, tid, bits)
    assert (spec.name, spec.short_name) == (name, short)
    assert (spec.keymat_len, spec.iv_len, spec.icv_len, spec.block_len) == (keymat, iv, icv, block)


def test_predicates() -> None:
    assert is_aead(lookup(ENCR, 20, 128)) and is_aead(lookup(ENCR, 28))
    assert not is_aead(lookup(ENCR, 12, 128)) and not is_aead(lookup(INTEG, 12))
    assert is_null_encryption(lookup(ENCR, 11)) and is_null_encryption(lookup(ENCR, 21, 256))
    assert not is_null_encryption(lookup(ENCR, 3))


def test_lookup_errors_name_type_and_id() -> None:
    with pytest.raises(UnsupportedTransform, match=r"type ENCR id 12 \(needs a key length\)"):
        lookup(ENCR, 12)
    with pytest.raises(UnsupportedTransform, match=r"type ENCR id 12, key length 512 bits"):
        lookup(ENCR, 12, 512)
    with pytest.raises(UnsupportedTransform, match="type INTEG id 9"):
        lookup(INTEG, 9)
    with pytest.raises(UnsupportedTransform, match="unknown transform type"):
        lookup(77, 1)
    # A redundant Key Length attribute on a fixed-size transform is accepted.
    assert lookup(ENCR, 3, 192).name == "ENCR_3DES"


def test_rows_are_frozen_and_keyed_consistently() -> None:
    for (ttype, tid, bits), row in TRANSFORMS.items():
        assert (row.type, row.id, row.key_bits) == (ttype, tid, bits)
    with pytest.raises(AttributeError):
        lookup(ENCR, 3).id = 4  # type: ignore[misc]


def test_wireshark_label_lookup() -> None:
    rows = by_wireshark_label(ENCR, "AES-CBC [RFC3602]", esp=True)
    assert sorted(r.key_bits for r in rows) == [128, 192, 256]
    (row,) = by_wireshark_label(ENCR, "AES-CCM-128 with 12 octet ICV [RFC5282]")
    assert (row.id, row.key_bits) == (15, 128)


def _table_labels(path: Path) -> set[str]:
    labels = set()
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            labels.update(part.strip('"') for part in line.split(",") if part.startswith('"'))
    return labels


def test_labels_match_the_wireshark_tables(shared_dir: Path) -> None:
    """Every label in Wireshark's own key tables (accepted by tshark 4.0) maps to a row."""
    ike_labels = _table_labels(shared_dir / "captures/wireshark/ikev2_decryption_table.tmpl")
    ours = {r.ws_ikev2_label for r in TRANSFORMS.values()}
    # "ANY 96-bits of Authentication [No Checking]" is Wireshark's no-check pseudo transform.
    assert ike_labels - ours == {"ANY 96-bits of Authentication [No Checking]"}
    esp_labels = {
        lab
        for lab in _table_labels(shared_dir / "captures/wireshark/esp_sa.tmpl")
        if not lab.startswith(("IPv", "0x")) and not lab[0].isdigit()
    }
    assert esp_labels and esp_labels <= {r.ws_esp_label for r in TRANSFORMS.values()}
