"""AUTH: shared-key MIC cross-checked with `openssl mac`, signatures made by the openssl CLI.

There are no published IKEv2 AUTH vectors (see ../shared/vectors/README.md), so every value the
code under test computes is produced independently here by the openssl command line: the MACs
with `openssl mac`, keys and self-signed certificates with `openssl req`/`genpkey`, signatures
with `openssl dgst -sign` / `pkeyutl -sign`, and DER AlgorithmIdentifiers with
`openssl asn1parse -genconf`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ikeview.crypto.auth import (
    KEY_PAD,
    AuthMethod,
    AuthSide,
    PskCandidate,
    compute_psk_auth,
    match_psks,
    psk_auth,
    side_signed_octets,
    signed_octets,
    verify_null_auth,
    verify_psk,
    verify_side_signature,
    verify_signature,
)
from ikeview.crypto.prf import PrfId, get_prf

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

SHA256 = get_prf(PrfId.PRF_HMAC_SHA2_256)


def _openssl(*args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=stdin, check=True, capture_output=True).stdout


def _side(**over: bytes) -> AuthSide:
    """A plausible initiator: IKE_SA_INIT bytes, Nr, ID_FQDN body, SK_pi (self-made values)."""
    base = {
        "real_message": bytes.fromhex("5a3c1f0e9b7d2a44")
        + bytes(8)
        + b"\x21\x20\x22\x08"
        + bytes(300),
        "peer_nonce": bytes(range(32)),
        "id_body": b"\x02\x00\x00\x00" + b"moon.strongswan.org",
        "sk_p": bytes(range(100, 132)),
        "auth_data": b"",
    }
    base.update(over)
    return AuthSide(**base)


# --- shared key MIC -----------------------------------------------------------------------------


def _openssl_hmac(digest: str, key: bytes, data: bytes, tmp: Path) -> bytes:
    f = tmp / "in.bin"
    f.write_bytes(data)
    return _openssl(
        "mac", "-digest", digest, "-macopt", f"hexkey:{key.hex()}", "-binary", "-in", str(f), "HMAC"
    )


def _openssl_cmac(key: bytes, data: bytes, tmp: Path) -> bytes:
    f = tmp / "in.bin"
    f.write_bytes(data)
    return _openssl(
        "mac",
        "-cipher",
        "AES-128-CBC",
        "-macopt",
        f"hexkey:{key.hex()}",
        "-binary",
        "-in",
        str(f),
        "CMAC",
    )


@pytest.mark.parametrize(("prf_id", "digest"), [(2, "SHA1"), (5, "SHA256"), (7, "SHA512")])
@pytest.mark.parametrize("psk", [b"secret", b"This is a strong password that is long" * 3])
def test_psk_auth_matches_openssl_hmac(
    prf_id: int, digest: str, psk: bytes, tmp_path: Path
) -> None:
    """AUTH = prf(prf(PSK, "Key Pad for IKEv2"), RealMessage | Nonce | prf(SK_p, IDx'))."""
    prf = get_prf(prf_id)
    side = _side(sk_p=bytes(range(prf.key_len)))
    maced_id = _openssl_hmac(digest, side.sk_p, side.id_body, tmp_path)
    octets = side.real_message + side.peer_nonce + maced_id
    assert side_signed_octets(prf, side) == octets
    assert signed_octets(prf, side.real_message, side.peer_nonce, side.sk_p, side.id_body) == octets
    inner = _openssl_hmac(digest, psk, KEY_PAD, tmp_path)
    expected = _openssl_hmac(digest, inner, octets, tmp_path)
    assert psk_auth(prf, psk, octets) == expected
    assert compute_psk_auth(prf, psk, side) == expected
    assert verify_psk(prf, psk, _side(sk_p=side.sk_p, auth_data=expected)).verified


@pytest.mark.parametrize("psk", [bytes(range(16)), b"a much longer shared secret than 16"])
def test_psk_auth_aes_cmac_prf_matches_openssl(psk: bytes, tmp_path: Path) -> None:
    """PRF 8: the RFC 4615 key rule (long keys compressed with CMAC(0^128, key)) via openssl."""
    prf = get_prf(PrfId.PRF_AES128_CMAC)
    side = _side(sk_p=bytes(range(16)))
    octets = side.real_message + side.peer_nonce + _openssl_cmac(side.sk_p, side.id_body, tmp_path)
    key = psk if len(psk) == 16 else _openssl_cmac(bytes(16), psk, tmp_path)
    expected = _openssl_cmac(_openssl_cmac(key, KEY_PAD, tmp_path), octets, tmp_path)
    assert compute_psk_auth(prf, psk, side) == expected


def test_verify_psk_rejects_wrong_secret_and_wrong_octets() -> None:
    good = _side()
    auth = compute_psk_auth(SHA256, b"right", good)
    assert verify_psk(SHA256, b"right", _side(auth_data=auth)).verified
    verdict = verify_psk(SHA256, b"wrong", _side(auth_data=auth))
    assert not verdict.verified
    assert "does not match" in verdict.reason
    other_nonce = _side(auth_data=auth, peer_nonce=bytes(32))
    assert not verify_psk(SHA256, b"right", other_nonce).verified


def test_match_psks_asymmetric() -> None:
    """Each side may use its own PSK; the matcher reports which label explains which AUTH."""
    init = _side()
    resp = _side(
        real_message=b"\x99" * 200,
        peer_nonce=b"\x07" * 24,
        id_body=b"\x01\x00\x00\x00\x0a\x00\x00\x01",
        sk_p=b"\x33" * 32,
    )
    init = _side(auth_data=compute_psk_auth(SHA256, b"alpha", init))
    resp = AuthSide(
        resp.real_message,
        resp.peer_nonce,
        resp.id_body,
        resp.sk_p,
        compute_psk_auth(SHA256, b"bravo", resp),
    )
    cands = [PskCandidate("decoy", b"zulu"), ("moon", b"alpha"), PskCandidate("sun", b"bravo")]
    match = match_psks(SHA256, cands, init, resp)
    assert (match.initiator, match.responder) == ("moon", "sun")
    assert match.any_matched
    none = match_psks(SHA256, [("decoy", b"zulu")], init, resp)
    assert (none.initiator, none.responder, none.any_matched) == (None, None, False)
    only_resp = match_psks(SHA256, cands, None, resp)
    assert (only_resp.initiator, only_resp.responder) == (None, "sun")


def test_psk_secret_not_in_repr() -> None:
    assert "hunter2" not in repr(PskCandidate("lab", b"hunter2"))
    assert repr(_side()).count("moon") == 0


def test_null_auth_is_mic_with_empty_key() -> None:
    side = _side()
    inner = SHA256(b"", KEY_PAD)
    auth = SHA256(inner, side_signed_octets(SHA256, side))
    assert verify_null_auth(SHA256, _side(auth_data=auth)).verified
    assert not verify_null_auth(SHA256, _side(auth_data=auth[:-1] + b"\x00")).verified


# --- signatures -------------------------------------------------------------------------------


class Pki:
    """Keys and self-signed certificates made by openssl in one temp directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.certs: dict[str, bytes] = {}
        self.spki: dict[str, bytes] = {}
        for name, genopts in {
            "rsa": ["-newkey", "rsa:2048"],
            "rsapss": [
                "-newkey",
                "rsa-pss",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-pkeyopt",
                "rsa_pss_keygen_md:sha256",
                "-pkeyopt",
                "rsa_pss_keygen_mgf1_md:sha256",
                "-pkeyopt",
                "rsa_pss_keygen_saltlen:32",
            ],
            "p256": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            "p384": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
            "p521": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"],
            "ed25519": ["-newkey", "ed25519"],
            "ed448": ["-newkey", "ed448"],
        }.items():
            key = root / f"{name}.pem"
            _openssl(
                "req",
                "-x509",
                *genopts,
                "-nodes",
                "-keyout",
                str(key),
                "-subj",
                f"/CN={name}",
                "-days",
                "2",
                "-outform",
                "DER",
                "-out",
                str(root / f"{name}.der"),
            )
            self.certs[name] = (root / f"{name}.der").read_bytes()
            self.spki[name] = _openssl("pkey", "-in", str(key), "-pubout", "-outform", "DER")

    def key(self, name: str) -> str:
        return str(self.root / f"{name}.pem")

    def sign(self, name: str, octets: bytes, *opts: str) -> bytes:
        msg = self.root / "octets.bin"
        msg.write_bytes(octets)
        if name.startswith("ed"):
            return _openssl("pkeyutl", "-sign", "-inkey", self.key(name), "-rawin", "-in", str(msg))
        return _openssl("dgst", *opts, "-sign", self.key(name), str(msg))

    def algid(self, conf: str) -> bytes:
        cnf, out = self.root / "alg.cnf", self.root / "alg.der"
        cnf.write_text(conf)
        _openssl("asn1parse", "-genconf", str(cnf), "-out", str(out), "-noout")
        return out.read_bytes()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


OCTETS = side_signed_octets(SHA256, _side())


def _rfc7427(algid: bytes, sig: bytes) -> bytes:
    return bytes([len(algid)]) + algid + sig


def _raw_ecdsa(der_sig: bytes, size: int) -> bytes:
    r, s = decode_dss_signature(der_sig)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


_PKCS1 = "asn1=SEQUENCE:a\n[a]\noid=OID:{oid}\nnull=NULL\n"
_NOPARAM = "asn1=SEQUENCE:a\n[a]\noid=OID:{oid}\n"
_PSS = """asn1=SEQUENCE:alg
[alg]
oid=OID:rsassaPss
params=SEQUENCE:pss
[pss]
hash=EXPLICIT:0,SEQUENCE:h
mgf=EXPLICIT:1,SEQUENCE:mgf
salt=EXPLICIT:2,INTEGER:{salt}
[h]
oid=OID:{digest}
null=NULL
[mgf]
oid=OID:mgf1
params=SEQUENCE:h
"""


def test_rsa_method1_pkcs1_sha1(pki: Pki) -> None:
    sig = pki.sign("rsa", OCTETS, "-sha1")
    verdict = verify_signature(AuthMethod.RSA_DIGITAL_SIGNATURE, sig, OCTETS, pki.certs["rsa"])
    assert verdict.verified, verdict
    assert verdict.algorithm == "RSASSA-PKCS1-v1_5 SHA-1"
    # Through an AuthSide too, and with a raw SPKI instead of a certificate (RFC 7670).
    side = _side(auth_data=sig)
    assert verify_side_signature(SHA256, 1, side, pki.certs["rsa"]).verified
    assert verify_signature(1, sig, OCTETS, pki.spki["rsa"]).verified
    bad = verify_signature(1, sig, OCTETS + b"x", pki.certs["rsa"])
    assert not bad.verified
    assert "does not verify" in bad.reason


@pytest.mark.parametrize(
    ("method", "name", "digest", "size"),
    [(9, "p256", "-sha256", 32), (10, "p384", "-sha384", 48), (11, "p521", "-sha512", 66)],
)
def test_ecdsa_methods_9_10_11(pki: Pki, method: int, name: str, digest: str, size: int) -> None:
    sig = _raw_ecdsa(pki.sign(name, OCTETS, digest), size)
    assert verify_signature(method, sig, OCTETS, pki.certs[name]).verified
    assert not verify_signature(method, sig, OCTETS[:-1], pki.certs[name]).verified
    short = verify_signature(method, sig[:-1], OCTETS, pki.certs[name])
    assert not short.verified
    assert "r | s" in short.reason


def test_ecdsa_method_needs_its_curve(pki: Pki) -> None:
    sig = _raw_ecdsa(pki.sign("p384", OCTETS, "-sha256"), 48)
    verdict = verify_signature(9, sig, OCTETS, pki.certs["p384"])
    assert not verdict.verified
    assert "secp256r1" in verdict.reason


@pytest.mark.parametrize(
    ("oid", "digest"),
    [
        ("sha1WithRSAEncryption", "-sha1"),
        ("sha256WithRSAEncryption", "-sha256"),
        ("sha384WithRSAEncryption", "-sha384"),
        ("sha512WithRSAEncryption", "-sha512"),
    ],
)
def test_rfc7427_rsa_pkcs1(pki: Pki, oid: str, digest: str) -> None:
    auth = _rfc7427(pki.algid(_PKCS1.format(oid=oid)), pki.sign("rsa", OCTETS, digest))
    verdict = verify_signature(AuthMethod.DIGITAL_SIGNATURE, auth, OCTETS, pki.certs["rsa"])
    assert verdict.verified, verdict
    assert verdict.algorithm.startswith("RSASSA-PKCS1-v1_5")


@pytest.mark.parametrize(("digest", "salt"), [("sha256", 32), ("sha384", 48), ("sha512", 64)])
def test_rfc7427_rsa_pss(pki: Pki, digest: str, salt: int) -> None:
    sig = pki.sign(
        "rsa",
        OCTETS,
        f"-{digest}",
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        f"rsa_pss_saltlen:{salt}",
        "-sigopt",
        f"rsa_mgf1_md:{digest}",
    )
    auth = _rfc7427(pki.algid(_PSS.format(digest=digest, salt=salt)), sig)
    verdict = verify_signature(14, auth, OCTETS, pki.certs["rsa"])
    assert verdict.verified, verdict
    assert verdict.algorithm == f"RSASSA-PSS SHA{digest[3:]} MGF1-SHA{digest[3:]} salt {salt}"
    # The same signature under a different declared salt length must fail.
    wrong = _rfc7427(pki.algid(_PSS.format(digest=digest, salt=salt - 1)), sig)
    assert not verify_signature(14, wrong, OCTETS, pki.certs["rsa"]).verified


def test_rfc7427_rsa_pss_key_certificate(pki: Pki) -> None:
    """A certificate whose key is an RSASSA-PSS key (SPKI OID rsassaPss), signing with PSS."""
    sig = pki.sign("rsapss", OCTETS, "-sha256", "-sigopt", "rsa_pss_saltlen:32")
    auth = _rfc7427(pki.algid(_PSS.format(digest="sha256", salt=32)), sig)
    verdict = verify_signature(14, auth, OCTETS, pki.certs["rsapss"])
    assert verdict.verified, verdict
    assert not verify_signature(14, auth, OCTETS, pki.certs["rsa"]).verified


def test_rfc7427_rsa_pss_default_parameters(pki: Pki) -> None:
    """RFC 4055 defaults (SHA-1, MGF1-SHA-1, salt 20) when the parameter SEQUENCE is empty."""
    sig = pki.sign(
        "rsa",
        OCTETS,
        "-sha1",
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:20",
        "-sigopt",
        "rsa_mgf1_md:sha1",
    )
    algid = pki.algid("asn1=SEQUENCE:a\n[a]\noid=OID:rsassaPss\np=SEQUENCE:e\n[e]\n")
    verdict = verify_signature(14, _rfc7427(algid, sig), OCTETS, pki.certs["rsa"])
    assert verdict.verified, verdict


@pytest.mark.parametrize(
    ("name", "oid", "digest"),
    [
        ("p256", "ecdsa-with-SHA256", "-sha256"),
        ("p384", "ecdsa-with-SHA384", "-sha384"),
        ("p521", "ecdsa-with-SHA512", "-sha512"),
    ],
)
def test_rfc7427_ecdsa(pki: Pki, name: str, oid: str, digest: str) -> None:
    auth = _rfc7427(pki.algid(_NOPARAM.format(oid=oid)), pki.sign(name, OCTETS, digest))
    verdict = verify_signature(14, auth, OCTETS, pki.certs[name])
    assert verdict.verified, verdict
    bad = verify_signature(14, auth, b"other" + OCTETS, pki.certs[name])
    assert not bad.verified
    assert bad.algorithm.startswith("ECDSA")


@pytest.mark.parametrize(("name", "oid"), [("ed25519", "ED25519"), ("ed448", "ED448")])
def test_rfc7427_eddsa(pki: Pki, name: str, oid: str) -> None:
    auth = _rfc7427(pki.algid(_NOPARAM.format(oid=oid)), pki.sign(name, OCTETS))
    verdict = verify_signature(14, auth, OCTETS, pki.certs[name])
    assert verdict.verified, verdict
    assert verdict.algorithm == name.capitalize()
    assert not verify_signature(14, auth, OCTETS + b"\x00", pki.certs[name]).verified


def test_signature_negative_cases(pki: Pki) -> None:
    rsa_auth = _rfc7427(
        pki.algid(_PKCS1.format(oid="sha256WithRSAEncryption")), pki.sign("rsa", OCTETS, "-sha256")
    )
    # Key of the wrong type.
    wrong_key = verify_signature(14, rsa_auth, OCTETS, pki.certs["p256"])
    assert not wrong_key.verified
    assert "EC secp256r1" in wrong_key.reason
    # AlgorithmIdentifier length runs past the data; empty data; garbage DER.
    assert not verify_signature(14, b"\xff" + rsa_auth[1:20], OCTETS, pki.certs["rsa"]).verified
    assert not verify_signature(14, b"", OCTETS, pki.certs["rsa"]).verified
    assert not verify_signature(14, b"\x03\x04\x01\x00sig", OCTETS, pki.certs["rsa"]).verified
    # An algorithm ikeview does not verify (DSA with SHA-256).
    dsa = _rfc7427(pki.algid(_NOPARAM.format(oid="dsa_with_SHA256")), b"\x00" * 64)
    unsupported = verify_signature(14, dsa, OCTETS, pki.certs["rsa"])
    assert not unsupported.verified
    assert "2.16.840.1.101.3.4.3.2" in unsupported.reason
    # Not a signature method, and unreadable CERT data.
    assert not verify_signature(2, rsa_auth, OCTETS, pki.certs["rsa"]).verified
    broken = verify_signature(14, rsa_auth, OCTETS, b"\x30\x03\x02\x01\x00")
    assert not broken.verified
    assert "CERT" in broken.reason
    # A valid signature checked against another key of the same type.
    other = pki.root / "other-ed25519.pem"
    _openssl("genpkey", "-algorithm", "ed25519", "-out", str(other))
    other_spki = _openssl("pkey", "-in", str(other), "-pubout", "-outform", "DER")
    ed_auth = _rfc7427(pki.algid(_NOPARAM.format(oid="ED25519")), pki.sign("ed25519", OCTETS))
    assert verify_signature(14, ed_auth, OCTETS, pki.spki["ed25519"]).verified
    assert not verify_signature(14, ed_auth, OCTETS, other_spki).verified


def test_cert_key_that_cannot_sign_is_refused(pki: Pki) -> None:
    """A CERT holding an X25519 key (key agreement only) gives a verdict, not an exception."""
    x25519 = pki.root / "x25519.pem"
    _openssl("genpkey", "-algorithm", "x25519", "-out", str(x25519))
    spki = _openssl("pkey", "-in", str(x25519), "-pubout", "-outform", "DER")
    ed_auth = _rfc7427(pki.algid(_NOPARAM.format(oid="ED25519")), pki.sign("ed25519", OCTETS))
    verdict = verify_signature(14, ed_auth, OCTETS, spki)
    assert not verdict.verified
    assert verdict.reason == "unsupported public key type X25519PublicKey"
