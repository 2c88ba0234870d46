"""EAP key material for IKEv2 (RFC 7296 section 2.16): the MSK a method exports, on bytes.

When the initiator authenticates with EAP, the AUTH payloads sent after EAP succeeded are
shared-key MICs (``auth.psk_auth``) whose secret is the method's MSK, or, for a method that
exports none (EAP-MD5), the sender's SK_p (strongSwan's keymat_v2 ``get_psk_sig``).

EAP-MSCHAPv2 (RFC 2759, MPPE keys per RFC 3079): the MSK is MasterReceiveKey | MasterSendKey
| 32 zero octets, the receive/send keys taken from the server's point of view (Magic2, then
Magic3), as draft-kamath-pppext-eap-mschapv2 and strongSwan's eap_mschapv2 do.

MD4 (RFC 1320) is written out here: cryptography has none, and OpenSSL 3 keeps it in the legacy
provider, which hashlib usually cannot reach.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

# --- MD4 (RFC 1320 section 3) -------------------------------------------------------------------

_MASK = 0xFFFFFFFF
_R2, _R3 = 0x5A827999, 0x6ED9EBA1
# Round shifts and the order each round reads the 16 words in.
_S1, _S2, _S3 = (3, 7, 11, 19), (3, 5, 9, 13), (3, 9, 11, 15)
_ORDER2 = (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)
_ORDER3 = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)


def _rotl(x: int, n: int) -> int:
    x &= _MASK
    return ((x << n) | (x >> (32 - n))) & _MASK


def _md4_block(state: list[int], block: bytes) -> None:
    x = struct.unpack("<16I", block)
    a, b, c, d = state
    for i in range(16):  # round 1: F(x, y, z) = xy v (not x)z
        f = (b & c) | (~b & d)
        a, b, c, d = d, _rotl(a + f + x[i], _S1[i % 4]), b, c
    for i in range(16):  # round 2: G = xy v xz v yz, plus sqrt(2)
        g = (b & c) | (b & d) | (c & d)
        a, b, c, d = d, _rotl(a + g + x[_ORDER2[i]] + _R2, _S2[i % 4]), b, c
    for i in range(16):  # round 3: H = x xor y xor z, plus sqrt(3)
        h = b ^ c ^ d
        a, b, c, d = d, _rotl(a + h + x[_ORDER3[i]] + _R3, _S3[i % 4]), b, c
    for i, v in enumerate((a, b, c, d)):
        state[i] = (state[i] + v) & _MASK


def md4(data: bytes) -> bytes:
    """MD4 digest of ``data`` (RFC 1320); hashlib's when OpenSSL offers it."""
    try:
        return hashlib.new("md4", data).digest()
    except ValueError:
        pass
    state = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    # Padding (3.1) and length (3.2): a 1 bit, zeros to 56 mod 64, the bit length (64 bits LE).
    padded = data + b"\x80" + bytes(-(len(data) + 9) % 64) + struct.pack("<Q", len(data) * 8)
    for off in range(0, len(padded), 64):
        _md4_block(state, padded[off : off + 64])
    return struct.pack("<4I", *state)


# --- MS-CHAPv2 (RFC 2759 section 8) --------------------------------------------------------------


def nt_password_hash(password: str) -> bytes:
    """NtPasswordHash: MD4 of the password in UTF-16LE (RFC 2759 8.3)."""
    return md4(password.encode("utf-16-le"))


def challenge_hash(peer_challenge: bytes, authenticator_challenge: bytes, username: bytes) -> bytes:
    """ChallengeHash: the first 8 octets of SHA-1 over both challenges and the user name without
    any domain part (RFC 2759 8.2)."""
    user = username.rsplit(b"\\", 1)[-1]
    return hashlib.sha1(peer_challenge + authenticator_challenge + user).digest()[:8]


def _des_key(seven: bytes) -> bytes:
    """The 56 key bits of ``seven`` spread over 8 octets (parity bits left 0: DES ignores them)."""
    bits = int.from_bytes(seven, "big")
    return bytes(((bits >> (49 - 7 * i)) & 0x7F) << 1 for i in range(8))


def _des_encrypt(key8: bytes, block: bytes) -> bytes:
    # Single DES as 3DES with K1 = K2 = K3 (cryptography offers no plain DES). Imported here:
    # every capture with IKE loads this module (the correlator's EAP half), and only an
    # MSCHAPv2 exchange with its password needs cryptography from it.
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    enc = Cipher(TripleDES(key8 * 3), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def challenge_response(challenge: bytes, password_hash: bytes) -> bytes:
    """ChallengeResponse: the 8-octet challenge DES-encrypted under three 7-octet slices of the
    password hash padded to 21 octets (RFC 2759 8.5)."""
    z = password_hash.ljust(21, b"\x00")
    return b"".join(_des_encrypt(_des_key(z[i : i + 7]), challenge) for i in (0, 7, 14))


def nt_response(
    authenticator_challenge: bytes, peer_challenge: bytes, username: bytes, password: str
) -> bytes:
    """GenerateNTResponse (RFC 2759 8.1): the 24 octets the peer sends."""
    ch = challenge_hash(peer_challenge, authenticator_challenge, username)
    return challenge_response(ch, nt_password_hash(password))


_AUTH_MAGIC1 = b"Magic server to client signing constant"
_AUTH_MAGIC2 = b"Pad to make it do more than one iteration"


def authenticator_response(
    password: str,
    nt_resp: bytes,
    peer_challenge: bytes,
    authenticator_challenge: bytes,
    username: bytes,
) -> str:
    """GenerateAuthenticatorResponse (RFC 2759 8.7): the ``S=...`` string of the Success."""
    hash_hash = md4(nt_password_hash(password))
    digest = hashlib.sha1(hash_hash + nt_resp + _AUTH_MAGIC1).digest()
    ch = challenge_hash(peer_challenge, authenticator_challenge, username)
    return "S=" + hashlib.sha1(digest + ch + _AUTH_MAGIC2).hexdigest().upper()


# --- MPPE keys (RFC 3079 section 3.4) ------------------------------------------------------------

_MPPE_MAGIC1 = b"This is the MPPE Master Key"
_MPPE_MAGIC2 = (
    b"On the client side, this is the send key; on the server side, it is the receive key."
)
_MPPE_MAGIC3 = (
    b"On the client side, this is the receive key; on the server side, it is the send key."
)
_SHS_PAD1 = bytes(40)
_SHS_PAD2 = b"\xf2" * 40


def master_key(password_hash_hash: bytes, nt_resp: bytes) -> bytes:
    """GetMasterKey (RFC 3079 3.4): 16 octets."""
    return hashlib.sha1(password_hash_hash + nt_resp + _MPPE_MAGIC1).digest()[:16]


def asymmetric_start_key(master: bytes, *, send: bool, server: bool, length: int = 16) -> bytes:
    """GetAsymmetricStartKey (RFC 3079 3.4): Magic2 for the client's send / server's receive
    key, Magic3 for the other two."""
    magic = _MPPE_MAGIC3 if send == server else _MPPE_MAGIC2
    return hashlib.sha1(master + _SHS_PAD1 + magic + _SHS_PAD2).digest()[:length]


def mschapv2_msk(password: str, nt_resp: bytes) -> bytes:
    """The 64-octet MSK of EAP-MSCHAPv2: MasterReceiveKey | MasterSendKey (server's view) | 32
    zero octets."""
    master = master_key(md4(nt_password_hash(password)), nt_resp)
    receive = asymmetric_start_key(master, send=False, server=True)
    send = asymmetric_start_key(master, send=True, server=True)
    return receive + send + bytes(32)


# --- what one EAP conversation tells -------------------------------------------------------------

EAP_IDENTITY, EAP_NAK, EAP_MD5, EAP_MSCHAPV2 = 1, 3, 4, 26
"""EAP method types (IANA "Method Types") this module knows."""
MSCHAPV2_CHALLENGE, MSCHAPV2_RESPONSE = 1, 2
"""MS-CHAPv2 OpCodes (draft-kamath-pppext-eap-mschapv2 section 2)."""


@dataclass(frozen=True, slots=True)
class MschapV2Exchange:
    """The values of one EAP-MSCHAPv2 round the MSK depends on."""

    authenticator_challenge: bytes
    """16 octets from the server's Challenge."""
    peer_challenge: bytes
    """16 octets from the peer's Response."""
    nt_response: bytes
    """24 octets from the peer's Response."""
    name: bytes
    """The Name the peer sent (the user name, maybe with a domain part)."""


def mschapv2_challenge(type_data: bytes) -> bytes | None:
    """The authenticator challenge of an MS-CHAPv2 Challenge's Type-Data, or None.

    Type-Data: OpCode(1) MS-CHAPv2-ID(1) MS-Length(2) Value-Size(1)=16 Challenge(16) Name.
    """
    if len(type_data) < 21 or type_data[0] != MSCHAPV2_CHALLENGE or type_data[4] != 16:
        return None
    return bytes(type_data[5:21])


def mschapv2_response(type_data: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(peer challenge, NT-Response, name) of an MS-CHAPv2 Response's Type-Data, or None.

    Type-Data: OpCode(1) MS-CHAPv2-ID(1) MS-Length(2) Value-Size(1)=49 Peer-Challenge(16)
    Reserved(8) NT-Response(24) Flags(1) Name.
    """
    if len(type_data) < 54 or type_data[0] != MSCHAPV2_RESPONSE or type_data[4] != 49:
        return None
    return bytes(type_data[5:21]), bytes(type_data[29:53]), bytes(type_data[54:])
