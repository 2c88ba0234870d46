"""KeyringDecryptor edge cases on self-made inputs (on top of the real captures elsewhere):
DH private values matched by public value, ESN across a 2^32 wrap, ESP keys without algorithm
names, truncated packets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from ikeview.dissectors.records import EspPacket, Flow
from test_pipeline_decrypt_support import read

from ikeview.crypto import dh
from ikeview.crypto.keymat import derive_child_keys, derive_ike_keys, ike_keys_from_skeyseed
from ikeview.crypto.prf import get_prf
from ikeview.keys.model import DhSecret, EspKeys, IkeSaKeys, KeyRing, SourceRef
from ikeview.keys.wireshark import read_esp_sa
from ikeview.pipeline.dec_dh import DhMatcher
from ikeview.pipeline.decrypt import DerivedEspSa, DerivedIkeSa, KeyringDecryptor
from ikeview.pipeline.ike_seam import ChildSaSetup, ChosenAlgorithms, IkeSaSetup, KeyExchange

SRC = SourceRef("keys.toml", 3)
SPIS = (bytes.fromhex("0102030405060708"), bytes.fromhex("1112131415161718"))
NI, NR = bytes(range(32)), bytes(range(32, 64))
GCM128 = ChosenAlgorithms(encr=20, encr_key_bits=128, integ=None, prf=5, dh=19)


def _ke() -> tuple[bytes, bytes, KeyExchange]:
    a, b = (1234567).to_bytes(32, "big"), (7654321).to_bytes(32, "big")
    return a, b, KeyExchange(19, dh.public_value(19, a), dh.public_value(19, b))


def _setup(ke: KeyExchange | None = None) -> IkeSaSetup:
    return IkeSaSetup(SPIS, NI, NR, GCM128, ke, "192.0.2.1", "192.0.2.2", b"req", b"resp")


def test_private_value_of_either_side_gives_g_ir() -> None:
    a, b, ke = _ke()
    g_ir = dh.shared_secret(19, a, ke.responder_public)
    for private in (a, b):
        rec = DhSecret(None, private, None, False, None, SRC)
        (cand,) = DhMatcher((rec,)).candidates(ke, spi_i=SPIS[0], child=False)
        assert cand.g_ir == g_ir and cand.origin == "[[dh]] keys.toml:3 private key"
    stranger = DhSecret(None, (99).to_bytes(32, "big"), None, False, None, SRC)
    assert DhMatcher((stranger,)).candidates(ke, spi_i=SPIS[0], child=False) == []


def test_ike_keys_from_a_private_value_equal_keymat() -> None:
    a, _, ke = _ke()
    dec = KeyringDecryptor(KeyRing(dh_secrets=(DhSecret(None, a, None, False, None, SRC),)))
    assert dec.ike_sa(_setup(ke)) is None
    (ike,) = [k for k in dec.derived_keys() if isinstance(k, DerivedIkeSa)]
    want = derive_ike_keys(
        get_prf(5), dh.shared_secret(19, a, ke.responder_public), NI, NR, *SPIS,
        encr_key_len=20, integ_key_len=0,
    )  # fmt: skip
    assert (ike.keys.sk_d, ike.keys.sk_ei, ike.keys.sk_pr) == (want.sk_d, want.sk_ei, want.sk_pr)
    assert ike.origin == "derived from [[dh]] keys.toml:3 private key"
    assert ike.verified is False  # nothing opened yet


def _esn_decryptor() -> tuple[KeyringDecryptor, bytes]:
    sk_d = bytes(range(100, 132))
    given = IkeSaKeys(*SPIS, sk_d, None, None, None, None, None, None, 20, 128, 0, 5, None, SRC)
    dec = KeyringDecryptor(KeyRing(ike_sas=(given,)))
    assert dec.ike_sa(_setup()) is None
    child = ChildSaSetup(
        SPIS, 0x1111, 0x2222, replace(GCM128, prf=None, dh=None, esn=True),
        None, None, None, "192.0.2.1", "192.0.2.2",
    )  # fmt: skip
    assert dec.child_sa(child) is None
    want = derive_child_keys(get_prf(5), sk_d, NI, NR, encr_key_len=20, integ_key_len=0)
    esp = {k.keys.spi: k for k in dec.derived_keys() if isinstance(k, DerivedEspSa)}
    # RFC 7296 section 2.17: initiator-to-responder keys first; that traffic carries the
    # responder's SPI.
    assert esp[0x2222].keys.encr_key == want.sk_ei and esp[0x1111].keys.encr_key == want.sk_er
    assert esp[0x2222].esn and esp[0x2222].keys.src == "192.0.2.1"
    return dec, want.sk_ei


def _gcm_esn_packet(key: bytes, spi: int, seq64: int, payload: bytes) -> EspPacket:
    # RFC 4106 section 5: with ESN the AAD is SPI | seq high | seq low; only low travels.
    iv = seq64.to_bytes(8, "big")
    pad = bytes(range(1, 1 + (-(len(payload) + 2) % 4)))
    plain = payload + pad + bytes([len(pad), 4])
    spi_b, high, low = spi.to_bytes(4, "big"), (seq64 >> 32).to_bytes(4, "big"), seq64 & 0xFFFFFFFF
    ct = AESGCM(key[:16]).encrypt(key[16:] + iv, plain, spi_b + high + low.to_bytes(4, "big"))
    data = spi_b + low.to_bytes(4, "big") + iv + ct
    flow = Flow(1, 0.0, 4, "192.0.2.1", "192.0.2.2", "ip", 0, 0)
    return EspPacket(flow, spi, low, len(data), data, False)


def test_esn_high_bits_follow_a_wrap_and_a_late_packet() -> None:
    dec, key = _esn_decryptor()
    wrap = 1 << 32
    for seq in (0xFFFFFFFE, 0xFFFFFFFF, wrap, wrap + 1, wrap + 5, 0xFFFFFFFD, wrap + 6):
        r = dec.esp(_gcm_esn_packet(key, 0x2222, seq, b"E" + bytes(30)))
        assert (r.decrypted, r.integrity, r.next_header) == (True, "ok", 4), hex(seq)


def test_esp_keys_without_algorithm_names_are_guessed(shared_dir: Path) -> None:
    wsdir = shared_dir / "captures" / "wireshark"
    rows = read_esp_sa((wsdir / "esp_sa.tmpl").read_text(), "esp_sa")
    bare = tuple(replace(r, encr=None, encr_key_bits=None, integ=None) for r in rows)
    dec = KeyringDecryptor(KeyRing(esp_sas=bare))
    cap = read(wsdir / "esp-bug-12671.pcapng.gz")
    assert all(dec.esp(p).integrity == "ok" for p in cap.esp)
    esp = [k for k in dec.derived_keys() if isinstance(k, DerivedEspSa)]
    assert len(esp) == 2 and all(k.verified for k in esp)


def test_truncated_esp_packet_is_named(shared_dir: Path) -> None:
    wsdir = shared_dir / "captures" / "wireshark"
    ring = KeyRing.of(read_esp_sa((wsdir / "esp_sa.tmpl").read_text(), "esp_sa"))
    pkt = read(wsdir / "esp-bug-12671.pcapng.gz").esp[0]
    cut = replace(pkt, data=pkt.data[:40])
    r = KeyringDecryptor(ring).esp(cut)
    assert r.decrypted is False
    assert r.problem == (
        f"ESP SPI 0x{pkt.spi:08x}: only 40 of {pkt.length} octets were captured (snap length); "
        "cannot decrypt"
    )


def test_wrong_esp_key_names_the_source(shared_dir: Path) -> None:
    wsdir = shared_dir / "captures" / "wireshark"
    rows = read_esp_sa((wsdir / "esp_sa.tmpl").read_text(), "esp_sa")
    bad = tuple(replace(r, integ_key=bytes(20)) for r in rows)
    pkt = read(wsdir / "esp-bug-12671.pcapng.gz").esp[0]
    r = KeyringDecryptor(KeyRing(esp_sas=bad)).esp(pkt)
    assert (r.decrypted, r.integrity) == (False, "failed")
    line = next(x.source.line for x in bad if x.spi == pkt.spi)
    assert r.problem == (
        f"ICV check failed for ESP SPI 0x{pkt.spi:08x}: keys esp_sa:{line} do not verify "
        "(HMAC-SHA1-96 ICV does not verify)"
    )


def _given_parent(sk_d: bytes | None) -> KeyRing:
    parent = IkeSaKeys(*SPIS, sk_d, None, None, None, None, None, None, 20, 128, 0, 5, None, SRC)
    return KeyRing(ike_sas=(parent,))


NEW_SPIS = (bytes.fromhex("2122232425262728"), bytes.fromhex("3132333435363738"))


def _rekey(ke: KeyExchange | None) -> IkeSaSetup:
    return IkeSaSetup(
        NEW_SPIS, NR, NI, GCM128, ke, "192.0.2.2", "192.0.2.1", None, None, parent=SPIS
    )


def test_ike_rekey_without_ke_uses_the_old_sk_d_alone() -> None:
    sk_d = bytes(range(200, 232))
    dec = KeyringDecryptor(_given_parent(sk_d))
    assert dec.ike_sa(_setup()) is None
    assert dec.ike_sa(_rekey(None)) is None
    new = next(
        k for k in dec.derived_keys() if isinstance(k, DerivedIkeSa) and k.keys.spi_i == NEW_SPIS[0]
    )
    # RFC 7296 section 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), here g^ir empty.
    seed = get_prf(5)(sk_d, NR + NI)
    want = ike_keys_from_skeyseed(
        get_prf(5), seed, NR, NI, *NEW_SPIS, encr_key_len=20, integ_key_len=0
    )
    assert new.keys.sk_d == want.sk_d and new.keys.sk_er == want.sk_er
    assert new.parent == SPIS
    assert (
        new.origin
        == "derived from SK_d of IKE SA 0102030405060708/1112131415161718 and no KE payloads"
    )


def test_ike_rekey_without_the_old_sk_d_says_so() -> None:
    dec = KeyringDecryptor(_given_parent(None))
    dec.ike_sa(_setup())
    _, _, ke = _ke()
    assert dec.ike_sa(_rekey(ke)) == (
        "no SK_d of the old IKE SA 0102030405060708/1112131415161718 to derive the rekeyed IKE SA "
        "2122232425262728/3132333435363738; add a [[dh]] secret for the old SA or [[ike_sa]] keys"
    )


def test_fast_opened_is_an_ordinary_frozen_esp_opened() -> None:
    """The hot path fills EspOpened through a twin class; it must be the same record."""
    from dataclasses import FrozenInstanceError

    import pytest

    from ikeview.pipeline.dec_esp import fast_opened
    from ikeview.pipeline.seam import EspOpened

    assert fast_opened(None) is None
    for ok, verdict in ((True, "ok"), (None, None)):
        got = fast_opened((4, b"inner", ok))
        want = EspOpened(True, verdict, 4, b"inner", None)
        assert type(got) is EspOpened
        assert got == want and hash(got) == hash(want) and repr(got) == repr(want)
        with pytest.raises(FrozenInstanceError):
            got.inner = b""  # type: ignore[misc,union-attr]


def test_esp_hot_path_gives_the_slow_path_records() -> None:
    """After the SA is pinned, good packets go through decrypt_clean; bad ones still get
    the slow path's problem lines, and good ones after them decrypt again."""
    keymat = bytes(range(20))
    aead, spi = AESGCM(keymat[:16]), 0x0A0B0C0D
    rec = EspKeys(spi, keymat, None, "192.0.2.1", "192.0.2.2", 20, 128, 0, None, SRC)
    dec = KeyringDecryptor(KeyRing(esp_sas=(rec,)))

    def packet(seq: int, inner: bytes, next_header: int = 4) -> EspPacket:
        head = spi.to_bytes(4, "big") + seq.to_bytes(4, "big")
        pad = (-(len(inner) + 2)) % 4
        plain = inner + bytes(range(1, pad + 1)) + bytes([pad, next_header])
        iv = seq.to_bytes(8, "big")
        data = head + iv + aead.encrypt(keymat[16:] + iv, plain, head)
        flow = Flow(seq, 0.0, 4, "192.0.2.1", "192.0.2.2", "ip", 0, 0)
        return EspPacket(flow, spi, seq, len(data), data, False)

    first = dec.esp(packet(1, b"first"))
    assert first.decrypted and first.inner == b"first" and first.integrity == "ok"
    assert dec._esp[spi][0].fast is not None  # pinned: the hot path is on
    good = dec.esp(packet(2, b"second", 41))
    assert good == replace(first, next_header=41, inner=b"second")
    broken = packet(3, b"third")
    broken = replace(broken, data=broken.data[:-1] + bytes([broken.data[-1] ^ 1]))
    bad = dec.esp(broken)
    assert not bad.decrypted and bad.integrity == "failed" and "ICV" in (bad.problem or "")
    reserved = dec.esp(packet(4, b"fourth", 255))
    assert "reserved" in (reserved.problem or "")
    assert dec.esp(packet(5, b"fifth")).inner == b"fifth"
