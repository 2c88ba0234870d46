"""IKEv2 Diffie-Hellman groups by IANA id (Transform Type 4): public values and g^ir.

Two questions are answered for a capture analyzer that is handed a private value:
``public_value`` (which KE payload did this private value produce?) and ``shared_secret``
(g^ir, encoded as IKEv2 feeds it to SKEYSEED). Encodings on the wire:

- MODP (RFC 7296 section 3.4): big-endian, left-padded with zeros to the prime's length.
- ECP (RFC 5903 section 7, RFC 5114, RFC 6954): KE data is x | y, each a fixed-width big-endian
  coordinate (no 0x04 prefix); g^ir is the x coordinate only.
- Curve25519 / Curve448 (RFC 8031 section 2): KE data and g^ir are the 32/56-octet
  little-endian u-coordinates of RFC 7748.

Private values are bytes: a big-endian exponent/scalar for MODP and ECP, the raw 32/56-octet
RFC 7748 scalar for Curve25519/Curve448.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import dh, ec, x448, x25519

from ikeview.crypto.transforms import TRANSFORMS, TransformType


class DhError(ValueError):
    """A private or public value that does not belong to the group."""


# RFC 2409 section 6.1: 768-bit MODP, generator 2.
_MODP_768 = int(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a0879"
    "8e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a63a3620"
    "ffffffffffffffff",
    16,
)

# RFC 2409 section 6.2: 1024-bit MODP, generator 2.
_MODP_1024 = int(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a0879"
    "8e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b"
    "0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece65381ffffffffffffffff",
    16,
)

# RFC 3526 section 2: 1536-bit MODP, generator 2.
_MODP_1536 = int(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a0879"
    "8e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b"
    "0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da4836"
    "1c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804"
    "f1746c08ca237327ffffffffffffffff",
    16,
)

# RFC 3526 section 3: 2048-bit MODP, generator 2.
_MODP_2048 = int(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a0879"
    "8e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b"
    "0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da4836"
    "1c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804"
    "f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6"
    "955817183995497cea956ae515d2261898fa051015728e5a8aacaa68ffffffffffffffff",
    16,
)

# RFC 3526 section 4: 3072-bit MODP, generator 2.
_MODP_3072 = int(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a0879"
    "8e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b"
    "0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da4836"
    "1c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804"
    "f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6"
    "955817183995497cea956ae515d2261898fa051015728e5a8aaac42dad33170d04507a33a85521abdf1cba64"
    "ecfb850458dbef0a8aea71575d060c7db3970f85a6e1e4c7abf5ae8cdb0933d71e8c94e04a25619dcee3d226"
    "1ad2ee6bf12ffa06d98a0864d87602733ec86a64521f2b18177b200cbbe117577a615d6c770988c0bad946e2"
    "08e24fa074e5ab3143db5bfce0fd108e4b82d120a93ad2caffffffffffffffff",
    16,
)

# RFC 3526 section 5: 4096-bit MODP, generator 2.
_MODP_4096 = int(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a0879"
    "8e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b"
    "0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da4836"
    "1c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804"
    "f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6"
    "955817183995497cea956ae515d2261898fa051015728e5a8aaac42dad33170d04507a33a85521abdf1cba64"
    "ecfb850458dbef0a8aea71575d060c7db3970f85a6e1e4c7abf5ae8cdb0933d71e8c94e04a25619dcee3d226"
    "1ad2ee6bf12ffa06d98a0864d87602733ec86a64521f2b18177b200cbbe117577a615d6c770988c0bad946e2"
    "08e24fa074e5ab3143db5bfce0fd108e4b82d120a92108011a723c12a787e6d788719a10bdba5b2699c32718"
    "6af4e23c1a946834b6150bda2583e9ca2ad44ce8dbbbc2db04de8ef92e8efc141fbecaa6287c59474e6bc05d"
    "99b2964fa090c3a2233ba186515be7ed1f612970cee2d7afb81bdd762170481cd0069127d5b05aa993b4ea98"
    "8d8fddc186ffb7dc90a6c08f4df435c934063199ffffffffffffffff",
    16,
)

# RFC 3526 section 6: 6144-bit MODP, generator 2.
_MODP_6144 = int(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a0879"
    "8e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b"
    "0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da4836"
    "1c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804"
    "f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6"
    "955817183995497cea956ae515d2261898fa051015728e5a8aaac42dad33170d04507a33a85521abdf1cba64"
    "ecfb850458dbef0a8aea71575d060c7db3970f85a6e1e4c7abf5ae8cdb0933d71e8c94e04a25619dcee3d226"
    "1ad2ee6bf12ffa06d98a0864d87602733ec86a64521f2b18177b200cbbe117577a615d6c770988c0bad946e2"
    "08e24fa074e5ab3143db5bfce0fd108e4b82d120a92108011a723c12a787e6d788719a10bdba5b2699c32718"
    "6af4e23c1a946834b6150bda2583e9ca2ad44ce8dbbbc2db04de8ef92e8efc141fbecaa6287c59474e6bc05d"
    "99b2964fa090c3a2233ba186515be7ed1f612970cee2d7afb81bdd762170481cd0069127d5b05aa993b4ea98"
    "8d8fddc186ffb7dc90a6c08f4df435c93402849236c3fab4d27c7026c1d4dcb2602646dec9751e763dba37bd"
    "f8ff9406ad9e530ee5db382f413001aeb06a53ed9027d831179727b0865a8918da3edbebcf9b14ed44ce6cba"
    "ced4bb1bdb7f1447e6cc254b332051512bd7af426fb8f401378cd2bf5983ca01c64b92ecf032ea15d1721d03"
    "f482d7ce6e74fef6d55e702f46980c82b5a84031900b1c9e59e7c97fbec7e8f323a97a7e36cc88be0f1d45b7"
    "ff585ac54bd407b22b4154aacc8f6d7ebf48e1d814cc5ed20f8037e0a79715eef29be32806a1d58bb7c5da76"
    "f550aa3d8a1fbff0eb19ccb1a313d55cda56c9ec2ef29632387fe8d76e3c0468043e8f663f4860ee12bf2d5b"
    "0b7474d6e694f91e6dcc4024ffffffffffffffff",
    16,
)

# RFC 3526 section 7: 8192-bit MODP, generator 2.
_MODP_8192 = int(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a0879"
    "8e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b"
    "0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da4836"
    "1c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804"
    "f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6"
    "955817183995497cea956ae515d2261898fa051015728e5a8aaac42dad33170d04507a33a85521abdf1cba64"
    "ecfb850458dbef0a8aea71575d060c7db3970f85a6e1e4c7abf5ae8cdb0933d71e8c94e04a25619dcee3d226"
    "1ad2ee6bf12ffa06d98a0864d87602733ec86a64521f2b18177b200cbbe117577a615d6c770988c0bad946e2"
    "08e24fa074e5ab3143db5bfce0fd108e4b82d120a92108011a723c12a787e6d788719a10bdba5b2699c32718"
    "6af4e23c1a946834b6150bda2583e9ca2ad44ce8dbbbc2db04de8ef92e8efc141fbecaa6287c59474e6bc05d"
    "99b2964fa090c3a2233ba186515be7ed1f612970cee2d7afb81bdd762170481cd0069127d5b05aa993b4ea98"
    "8d8fddc186ffb7dc90a6c08f4df435c93402849236c3fab4d27c7026c1d4dcb2602646dec9751e763dba37bd"
    "f8ff9406ad9e530ee5db382f413001aeb06a53ed9027d831179727b0865a8918da3edbebcf9b14ed44ce6cba"
    "ced4bb1bdb7f1447e6cc254b332051512bd7af426fb8f401378cd2bf5983ca01c64b92ecf032ea15d1721d03"
    "f482d7ce6e74fef6d55e702f46980c82b5a84031900b1c9e59e7c97fbec7e8f323a97a7e36cc88be0f1d45b7"
    "ff585ac54bd407b22b4154aacc8f6d7ebf48e1d814cc5ed20f8037e0a79715eef29be32806a1d58bb7c5da76"
    "f550aa3d8a1fbff0eb19ccb1a313d55cda56c9ec2ef29632387fe8d76e3c0468043e8f663f4860ee12bf2d5b"
    "0b7474d6e694f91e6dbe115974a3926f12fee5e438777cb6a932df8cd8bec4d073b931ba3bc832b68d9dd300"
    "741fa7bf8afc47ed2576f6936ba424663aab639c5ae4f5683423b4742bf1c978238f16cbe39d652de3fdb8be"
    "fc848ad922222e04a4037c0713eb57a81a23f0c73473fc646cea306b4bcbc8862f8385ddfa9d4b7fa2c087e8"
    "79683303ed5bdd3a062b3cf5b3a278a66d2a13f83f44f82ddf310ee074ab6a364597e899a0255dc164f31cc5"
    "0846851df9ab48195ded7ea1b1d510bd7ee74d73faf36bc31ecfa268359046f4eb879f924009438b481c6cd7"
    "889a002ed5ee382bc9190da6fc026e479558e4475677e9aa9e3050e2765694dfc81f56e880b96e7160c980dd"
    "98edd3dfffffffffffffffff",
    16,
)

# RFC 5114 section 2.1 (test data A.1): 1024-bit MODP Group with 160-bit Prime Order Subgroup.
_G22_P = int(
    "b10b8f96a080e01dde92de5eae5d54ec52c99fbcfb06a3c69a6a9dca52d23b616073e28675a23d189838ef1e"
    "2ee652c013ecb4aea906112324975c3cd49b83bfaccbdd7d90c4bd7098488e9c219a73724effd6fae5644738"
    "faa31a4ff55bccc0a151af5f0dc8b4bd45bf37df365c1a65e68cfda76d4da708df1fb2bc2e4a4371",
    16,
)
_G22_G = int(
    "a4d1cbd5c3fd34126765a442efb99905f8104dd258ac507fd6406cff14266d31266fea1e5c41564b777e690f"
    "5504f213160217b4b01b886a5e91547f9e2749f4d7fbd7d3b9a92ee1909d0d2263f80a76a6a24c087a091f53"
    "1dbf0a0169b6a28ad662a4d18e73afa32d779d5918d08bc8858f4dcef97c2a24855e6eeb22b3b2e5",
    16,
)
_G22_Q = int(
    "f518aa8781a8df278aba4e7d64b7cb9d49462353",
    16,
)

# RFC 5114 section 2.2 (test data A.2): 2048-bit MODP Group with 224-bit Prime Order Subgroup.
_G23_P = int(
    "ad107e1e9123a9d0d660faa79559c51fa20d64e5683b9fd1b54b1597b61d0a75e6fa141df95a56dbaf9a3c40"
    "7ba1df15eb3d688a309c180e1de6b85a1274a0a66d3f8152ad6ac2129037c9edefda4df8d91e8fef55b7394b"
    "7ad5b7d0b6c12207c9f98d11ed34dbf6c6ba0b2c8bbc27be6a00e0a0b9c49708b3bf8a317091883681286130"
    "bc8985db1602e714415d9330278273c7de31efdc7310f7121fd5a07415987d9adc0a486dcdf93acc44328387"
    "315d75e198c641a480cd86a1b9e587e8be60e69cc928b2b9c52172e413042e9b23f10b0e16e79763c9b53dcf"
    "4ba80a29e3fb73c16b8e75b97ef363e2ffa31f71cf9de5384e71b81c0ac4dffe0c10e64f",
    16,
)
_G23_G = int(
    "ac4032ef4f2d9ae39df30b5c8ffdac506cdebe7b89998caf74866a08cfe4ffe3a6824a4e10b9a6f0dd921f01"
    "a70c4afaab739d7700c29f52c57db17c620a8652be5e9001a8d66ad7c17669101999024af4d027275ac1348b"
    "b8a762d0521bc98ae247150422ea1ed409939d54da7460cdb5f6c6b250717cbef180eb34118e98d119529a45"
    "d6f834566e3025e316a330efbb77a86f0c1ab15b051ae3d428c8f8acb70a8137150b8eeb10e183edd19963dd"
    "d9e263e4770589ef6aa21e7f5f2ff381b539cce3409d13cd566afbb48d6c019181e1bcfe94b30269edfe72fe"
    "9b6aa4bd7b5a0f1c71cfff4c19c418e1f6ec017981bc087f2a7065b384b890d3191f2bfa",
    16,
)
_G23_Q = int(
    "801c0d34c58d93fe997177101f80535a4738cebcbf389a99b36371eb",
    16,
)

# RFC 5114 section 2.3 (test data A.3): 2048-bit MODP Group with 256-bit Prime Order Subgroup.
_G24_P = int(
    "87a8e61db4b6663cffbbd19c651959998ceef608660dd0f25d2ceed4435e3b00e00df8f1d61957d4faf7df45"
    "61b2aa3016c3d91134096faa3bf4296d830e9a7c209e0c6497517abd5a8a9d306bcf67ed91f9e6725b4758c0"
    "22e0b1ef4275bf7b6c5bfc11d45f9088b941f54eb1e59bb8bc39a0bf12307f5c4fdb70c581b23f76b63acae1"
    "caa6b7902d52526735488a0ef13c6d9a51bfa4ab3ad8347796524d8ef6a167b5a41825d967e144e514056425"
    "1ccacb83e6b486f6b3ca3f7971506026c0b857f689962856ded4010abd0be621c3a3960a54e710c375f26375"
    "d7014103a4b54330c198af126116d2276e11715f693877fad7ef09cadb094ae91e1a1597",
    16,
)
_G24_G = int(
    "3fb32c9b73134d0b2e77506660edbd484ca7b18f21ef205407f4793a1a0ba12510dbc15077be463fff4fed4a"
    "ac0bb555be3a6c1b0c6b47b1bc3773bf7e8c6f62901228f8c28cbb18a55ae31341000a650196f931c77a57f2"
    "ddf463e5e9ec144b777de62aaab8a8628ac376d282d6ed3864e67982428ebc831d14348f6f2f9193b5045af2"
    "767164e1dfc967c1fb3f2e55a4bd1bffe83b9c80d052b985d182ea0adb2a3b7313d3fe14c8484b1e052588b9"
    "b7d2bbd2df016199ecd06e1557cd0915b3353bbb64e0ec377fd028370df92b52c7891428cdc67eb6184b523d"
    "1db246c32f63078490f00ef8d647d148d47954515e2327cfef98c582664b4c0f6cc41659",
    16,
)
_G24_Q = int(
    "8cf83642a709a097b447997640129da299b1a47d1eb3750ba308b0fe64f5fbd3",
    16,
)


# RFC 5639 section 3.2: brainpoolP224r1 (IKEv2 group 27, RFC 6954). cryptography 48 exposes only
# the 256/384/512-bit Brainpool curves, so this one curve is computed with plain integers below.
_BP224_P = 0xD7C134AA264366862A18302575D1D787B09F075797DA89F57EC8C0FF
_BP224_A = 0x68A5E62CA9CE6C1C299803A6C1530B514E182AD8B0042A59CAD29F43
_BP224_B = 0x2580F63CCFE44138870713B1A92369E33E2135D266DBB372386C400B
_BP224_GX = 0x0D9029AD2C7E5CF4340823B2A87DC68C9E4CE3174C1E6EFDEE12C07D
_BP224_GY = 0x58AA56F772C0726F24C6B89E4ECDAC24354B9E99CAA3F6D3761402CD
_BP224_N = 0xD7C134AA264366862A18302575D0FB98D116BC4B6DDEBCA3A5A7939F


@dataclass(frozen=True, slots=True)
class DhGroup:
    """One IKEv2 Diffie-Hellman group."""

    group_id: int
    """IANA Transform Type 4 id."""
    name: str
    """IANA description, e.g. ``256-bit random ECP group``."""
    kind: str
    """``modp``, ``ecp`` or ``montgomery`` (Curve25519/Curve448)."""
    public_len: int
    """Octets of the KE payload's Key Exchange Data."""
    secret_len: int
    """Octets of g^ir as IKEv2 uses it."""
    prime: int = 0
    """MODP: the prime p."""
    generator: int = 0
    """MODP: the generator g."""
    order: int | None = None
    """MODP: the prime order q of the subgroup (RFC 5114 groups only)."""
    curve: str = ""
    """ECP: the curve name as OpenSSL/cryptography spell it; montgomery: ``x25519``/``x448``."""


def _name(gid: int) -> str:
    # IANA's description, from the one transform table.
    return TRANSFORMS[(TransformType.DH, gid, None)].name


def _modp(gid: int, p: int, g: int = 2, q: int | None = None) -> DhGroup:
    size = (p.bit_length() + 7) // 8
    return DhGroup(gid, _name(gid), "modp", size, size, prime=p, generator=g, order=q)


def _ecp(gid: int, curve: str, bits: int) -> DhGroup:
    size = (bits + 7) // 8
    return DhGroup(gid, _name(gid), "ecp", 2 * size, size, curve=curve)


_GROUPS: dict[int, DhGroup] = {
    g.group_id: g
    for g in (
        _modp(1, _MODP_768),
        _modp(2, _MODP_1024),
        _modp(5, _MODP_1536),
        _modp(14, _MODP_2048),
        _modp(15, _MODP_3072),
        _modp(16, _MODP_4096),
        _modp(17, _MODP_6144),
        _modp(18, _MODP_8192),
        _ecp(19, "secp256r1", 256),
        _ecp(20, "secp384r1", 384),
        _ecp(21, "secp521r1", 521),
        _modp(22, _G22_P, _G22_G, _G22_Q),
        _modp(23, _G23_P, _G23_G, _G23_Q),
        _modp(24, _G24_P, _G24_G, _G24_Q),
        _ecp(25, "secp192r1", 192),
        _ecp(26, "secp224r1", 224),
        _ecp(27, "brainpoolP224r1", 224),
        _ecp(28, "brainpoolP256r1", 256),
        _ecp(29, "brainpoolP384r1", 384),
        _ecp(30, "brainpoolP512r1", 512),
        DhGroup(31, _name(31), "montgomery", 32, 32, curve="x25519"),
        DhGroup(32, _name(32), "montgomery", 56, 56, curve="x448"),
    )
}

_EC_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "secp192r1": ec.SECP192R1,
    "secp224r1": ec.SECP224R1,
    "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
    "secp521r1": ec.SECP521R1,
    "brainpoolP256r1": ec.BrainpoolP256R1,
    "brainpoolP384r1": ec.BrainpoolP384R1,
    "brainpoolP512r1": ec.BrainpoolP512R1,
}


def supported_groups() -> tuple[int, ...]:
    """IANA ids of every group this module computes."""
    return tuple(_GROUPS)


def get_group(group_id: int) -> DhGroup:
    """The group with IANA Transform Type 4 id ``group_id``; ``KeyError`` if unsupported."""
    try:
        return _GROUPS[group_id]
    except KeyError:
        raise KeyError(f"DH group {group_id} is not supported") from None


def _as_group(group: DhGroup | int) -> DhGroup:
    return group if isinstance(group, DhGroup) else get_group(group)


def public_value(group: DhGroup | int, private_value: bytes) -> bytes:
    """The KE payload Key Exchange Data that ``private_value`` produces in ``group``."""
    grp = _as_group(group)
    try:
        if grp.kind == "modp":
            return _modp_public(grp, private_value).to_bytes(grp.public_len, "big")
        if grp.kind == "montgomery":
            return _montgomery_private(grp, private_value).public_key().public_bytes_raw()
        if grp.curve == "brainpoolP224r1":
            x, y = _bp224_mul(_ec_scalar(grp, private_value), (_BP224_GX, _BP224_GY))
        else:
            pub = _ec_private(grp, private_value).public_key().public_numbers()
            x, y = pub.x, pub.y
    except DhError:
        raise
    except ValueError as exc:
        raise DhError(f"group {grp.group_id}: {exc}") from exc
    return x.to_bytes(grp.secret_len, "big") + y.to_bytes(grp.secret_len, "big")


def shared_secret(group: DhGroup | int, private_value: bytes, peer_public: bytes) -> bytes:
    """g^ir from our ``private_value`` and the peer's KE Key Exchange Data.

    The result has the group's fixed length (RFC 7296 section 2.14: g^ir is "represented as a
    string of octets in big endian order padded with zeros if necessary to make it the length
    of the modulus"; for ECP the x coordinate, RFC 5903 section 7).
    """
    grp = _as_group(group)
    if len(peer_public) != grp.public_len:
        raise DhError(
            f"group {grp.group_id} public values are {grp.public_len} octets, "
            f"got {len(peer_public)}"
        )
    try:
        if grp.kind == "modp":
            return _modp_shared(grp, private_value, peer_public)
        if grp.kind == "montgomery":
            return _montgomery_shared(grp, private_value, peer_public)
        if grp.curve == "brainpoolP224r1":
            return _bp224_shared(grp, private_value, peer_public)
        return _ec_shared(grp, private_value, peer_public)
    except DhError:
        raise
    except ValueError as exc:
        # cryptography rejects invalid peer values (off the curve, 1, p-1, all-zero X25519
        # output); keep the group in the message.
        raise DhError(f"group {grp.group_id}: {exc}") from exc


# --- MODP (RFC 2409, RFC 3526, RFC 5114) ------------------------------------------------------


def _modp_exponent(grp: DhGroup, private_value: bytes) -> int:
    x = int.from_bytes(private_value, "big")
    if not 1 < x < grp.prime - 1:
        raise DhError(f"group {grp.group_id}: private exponent out of range")
    return x


def _modp_public(grp: DhGroup, private_value: bytes) -> int:
    # cryptography's DH API cannot derive y = g^x mod p from x (DHPrivateNumbers needs y to be
    # given), so this one modular exponentiation is done with pow().
    return pow(grp.generator, _modp_exponent(grp, private_value), grp.prime)


def _modp_shared(grp: DhGroup, private_value: bytes, peer_public: bytes) -> bytes:
    x = _modp_exponent(grp, private_value)
    params = dh.DHParameterNumbers(grp.prime, grp.generator, grp.order)
    own = dh.DHPublicNumbers(pow(grp.generator, x, grp.prime), params)
    key = dh.DHPrivateNumbers(x, own).private_key()
    peer = dh.DHPublicNumbers(int.from_bytes(peer_public, "big"), params).public_key()
    # exchange() already returns the secret padded to len(p); rjust keeps that explicit.
    return key.exchange(peer).rjust(grp.secret_len, b"\x00")


# --- ECP (RFC 5903, RFC 5114, RFC 6954) -------------------------------------------------------


def _ec_scalar(grp: DhGroup, private_value: bytes) -> int:
    d = int.from_bytes(private_value, "big")
    if d == 0:
        raise DhError(f"group {grp.group_id}: private scalar is zero")
    return d


def _ec_private(grp: DhGroup, private_value: bytes) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(_ec_scalar(grp, private_value), _EC_CURVES[grp.curve]())


def _ec_shared(grp: DhGroup, private_value: bytes, peer_public: bytes) -> bytes:
    curve = _EC_CURVES[grp.curve]()
    peer = ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + peer_public)
    return _ec_private(grp, private_value).exchange(ec.ECDH(), peer)


def _bp224_add(p1: tuple[int, int] | None, p2: tuple[int, int] | None) -> tuple[int, int] | None:
    # Affine short-Weierstrass addition (None is the point at infinity). Speed and side channels
    # do not matter here: the analyzer only replays exchanges whose keys it was given.
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    p = _BP224_P
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % p == 0:
        return None
    if p1 == p2:
        lam = (3 * x1 * x1 + _BP224_A) * pow(2 * y1, -1, p) % p
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, p) % p
    x3 = (lam * lam - x1 - x2) % p
    return x3, (lam * (x1 - x3) - y1) % p


def _bp224_mul(k: int, point: tuple[int, int]) -> tuple[int, int]:
    result: tuple[int, int] | None = None
    addend: tuple[int, int] | None = point
    if not 0 < k < _BP224_N:
        # Same rule cryptography applies to the other curves' private scalars.
        raise DhError("group 27: private scalar out of range")
    while k:
        if k & 1:
            result = _bp224_add(result, addend)
        addend = _bp224_add(addend, addend)
        k >>= 1
    if result is None:
        raise DhError("group 27: result is the point at infinity")
    return result


def _bp224_shared(grp: DhGroup, private_value: bytes, peer_public: bytes) -> bytes:
    size = grp.secret_len
    x = int.from_bytes(peer_public[:size], "big")
    y = int.from_bytes(peer_public[size:], "big")
    p = _BP224_P
    if not (x < p and y < p and (y * y - x * x * x - _BP224_A * x - _BP224_B) % p == 0):
        raise DhError("group 27: peer public value is not a point on brainpoolP224r1")
    sx, _ = _bp224_mul(_ec_scalar(grp, private_value), (x, y))
    return sx.to_bytes(size, "big")


# --- Curve25519 / Curve448 (RFC 7748, RFC 8031) -----------------------------------------------


def _montgomery_private(
    grp: DhGroup, private_value: bytes
) -> x25519.X25519PrivateKey | x448.X448PrivateKey:
    if len(private_value) != grp.public_len:
        raise DhError(
            f"group {grp.group_id} private values are {grp.public_len} octets, "
            f"got {len(private_value)}"
        )
    if grp.curve == "x25519":
        return x25519.X25519PrivateKey.from_private_bytes(private_value)
    return x448.X448PrivateKey.from_private_bytes(private_value)


def _montgomery_shared(grp: DhGroup, private_value: bytes, peer_public: bytes) -> bytes:
    # RFC 8031 section 2: the shared secret is the raw X25519/X448 output; an all-zero output
    # MUST be rejected, which cryptography does (ValueError).
    key = _montgomery_private(grp, private_value)
    if isinstance(key, x25519.X25519PrivateKey):
        return key.exchange(x25519.X25519PublicKey.from_public_bytes(peer_public))
    return key.exchange(x448.X448PublicKey.from_public_bytes(peer_public))
