"""Notification Data of IKEv2 Notify payloads, decoded where the defining RFC gives it a shape.

``decode(notify_type, spi, data)`` returns one of the records of
:mod:`ikeview.dissectors.notify_records`, or None for types
whose data is opaque or unknown here. Data of the wrong size never raises: it gives
:class:`NotifyMalformed` so one odd notify does not hide the rest of the message.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable

# The records live in notify_records (data only, importable by the views); re-exported here.
from ikeview.dissectors.notify_records import (
    AuthAnnouncement,
    NotifyAddress,
    NotifyAuthMethods,
    NotifyCookie,
    NotifyCount,
    NotifyDecoded,
    NotifyFlag,
    NotifyGroup,
    NotifyHash,
    NotifyHashAlgorithms,
    NotifyIpcomp,
    NotifyList16,
    NotifyMalformed,
    NotifyMessageId,
    NotifyMessageIdSync,
    NotifyPayloadType,
    NotifyPpkIdentity,
    NotifyRedirect,
    NotifySpi,
)

from ikeview.iana import NotifyType as N

_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
# RFC 6311 4.2: Nonce (4) | EXPECTED_SEND_REQ_MESSAGE_ID (4) | EXPECTED_RECV_REQ_MESSAGE_ID (4)
_MID_SYNC = struct.Struct("!III")
# RFC 7296 2.22: CPI (2) | Transform ID (1)
_IPCOMP = struct.Struct("!HB")


def _exact(size: int, data: bytes) -> NotifyMalformed | None:
    if len(data) != size:
        return NotifyMalformed(f"expected {size} bytes of data, got {len(data)}")
    return None


def _flag(spi: bytes, data: bytes) -> NotifyDecoded:
    return NotifyFlag(data)


def _hash(spi: bytes, data: bytes) -> NotifyDecoded:
    return _exact(20, data) or NotifyHash(data)


def _cookie(spi: bytes, data: bytes) -> NotifyDecoded:
    if not data:
        return NotifyMalformed("empty cookie")
    return NotifyCookie(data)


def _group(spi: bytes, data: bytes) -> NotifyDecoded:
    return _exact(2, data) or NotifyGroup(_U16.unpack(data)[0])


MAX_LIST = 256
"""Entries a list-valued notify may decode to (real ones carry a handful): a 65 KB list would
otherwise become 32,000 Python integers, many times the bytes that carry them."""


def _too_long(data: bytes, size: int) -> NotifyDecoded | None:
    if len(data) > MAX_LIST * size:
        return NotifyMalformed(f"{len(data) // size} entries; more than {MAX_LIST} not decoded")
    return None


def _hash_algorithms(spi: bytes, data: bytes) -> NotifyDecoded:
    if len(data) % 2:
        return NotifyMalformed(f"odd data length {len(data)}")
    if bad := _too_long(data, 2):
        return bad
    return NotifyHashAlgorithms(tuple(v for (v,) in _U16.iter_unpack(data)))


def _list16(spi: bytes, data: bytes) -> NotifyDecoded:
    if len(data) % 2:
        return NotifyMalformed(f"odd data length {len(data)}")
    if bad := _too_long(data, 2):
        return bad
    return NotifyList16(tuple(v for (v,) in _U16.iter_unpack(data)))


def _message_id(spi: bytes, data: bytes) -> NotifyDecoded:
    return _exact(4, data) or NotifyMessageId(_U32.unpack(data)[0])


def _count(spi: bytes, data: bytes) -> NotifyDecoded:
    return _exact(4, data) or NotifyCount(_U32.unpack(data)[0])


def _spi_in_data(spi: bytes, data: bytes) -> NotifyDecoded:
    return NotifySpi(data)


def _spi_in_field(spi: bytes, data: bytes) -> NotifyDecoded:
    if not spi:
        return NotifyMalformed("no SPI")
    return NotifySpi(spi)


def _ipcomp(spi: bytes, data: bytes) -> NotifyDecoded:
    bad = _exact(3, data)
    if bad:
        return bad
    cpi, transform = _IPCOMP.unpack(data)
    return NotifyIpcomp(cpi, transform)


def _gateway(gw_type: int, ident: bytes) -> str:
    if gw_type == 1 and len(ident) == 4:
        return str(ipaddress.IPv4Address(ident))
    if gw_type == 2 and len(ident) == 16:
        return str(ipaddress.IPv6Address(ident))
    return ident.decode("ascii", errors="backslashreplace")


def _redirect(spi: bytes, data: bytes) -> NotifyDecoded:
    # RFC 5685 8: GW Ident Type (1) | GW Ident Len (1) | New Responder GW Identity | [Nonce]
    if len(data) < 2 or len(data) < 2 + data[1]:
        return NotifyMalformed("gateway identity truncated")
    end = 2 + data[1]
    return NotifyRedirect(data[0], _gateway(data[0], data[2:end]), data[end:])


def _ip4(spi: bytes, data: bytes) -> NotifyDecoded:
    return _exact(4, data) or NotifyAddress(str(ipaddress.IPv4Address(data)))


def _ip6(spi: bytes, data: bytes) -> NotifyDecoded:
    return _exact(16, data) or NotifyAddress(str(ipaddress.IPv6Address(data)))


def _payload_type(spi: bytes, data: bytes) -> NotifyDecoded:
    return _exact(1, data) or NotifyPayloadType(data[0])


def _ppk_identity(spi: bytes, data: bytes) -> NotifyDecoded:
    if not data:
        return NotifyMalformed("empty PPK identity")
    return NotifyPpkIdentity(data[0], data[1:])


def _auth_methods(spi: bytes, data: bytes) -> NotifyDecoded:
    # RFC 9593 3: each announcement is Length (1, itself included) | Auth Method (1)
    # [| Cert Link (1) [| AlgorithmIdentifier]].
    items: list[AuthAnnouncement] = []
    pos = 0
    while pos < len(data):
        if len(items) >= MAX_LIST:
            return NotifyMalformed(f"more than {MAX_LIST} announcements")
        length = data[pos]
        if length < 2 or pos + length > len(data):
            return NotifyMalformed(f"announcement length {length} at data offset {pos}")
        chunk = data[pos : pos + length]
        link = chunk[2] if length >= 3 else None
        items.append(AuthAnnouncement(chunk[1], link, chunk[3:]))
        pos += length
    return NotifyAuthMethods(tuple(items))


def _mid_sync(spi: bytes, data: bytes) -> NotifyDecoded:
    bad = _exact(_MID_SYNC.size, data)
    if bad:
        return bad
    return NotifyMessageIdSync(*_MID_SYNC.unpack(data))


_DECODERS: dict[int, Callable[[bytes, bytes], NotifyDecoded]] = {
    N.UNSUPPORTED_CRITICAL_PAYLOAD: _payload_type,
    N.INVALID_MESSAGE_ID: _message_id,
    N.INVALID_SPI: _spi_in_data,
    N.INVALID_KE_PAYLOAD: _group,
    N.CHILD_SA_NOT_FOUND: _spi_in_field,
    N.INITIAL_CONTACT: _flag,
    N.SET_WINDOW_SIZE: _count,
    N.ADDITIONAL_TS_POSSIBLE: _flag,
    N.IPCOMP_SUPPORTED: _ipcomp,
    N.NAT_DETECTION_SOURCE_IP: _hash,
    N.NAT_DETECTION_DESTINATION_IP: _hash,
    N.COOKIE: _cookie,
    N.USE_TRANSPORT_MODE: _flag,
    N.HTTP_CERT_LOOKUP_SUPPORTED: _flag,
    N.REKEY_SA: _spi_in_field,
    N.ESP_TFC_PADDING_NOT_SUPPORTED: _flag,
    N.NON_FIRST_FRAGMENTS_ALSO: _flag,
    N.MOBIKE_SUPPORTED: _flag,
    N.ADDITIONAL_IP4_ADDRESS: _ip4,
    N.ADDITIONAL_IP6_ADDRESS: _ip6,
    N.NO_ADDITIONAL_ADDRESSES: _flag,
    N.UPDATE_SA_ADDRESSES: _flag,
    N.COOKIE2: _cookie,
    N.AUTH_LIFETIME: _count,
    N.MULTIPLE_AUTH_SUPPORTED: _flag,
    N.ANOTHER_AUTH_FOLLOWS: _flag,
    N.REDIRECT_SUPPORTED: _flag,
    N.REDIRECT: _redirect,
    N.REDIRECTED_FROM: _redirect,
    N.EAP_ONLY_AUTHENTICATION: _flag,
    N.CHILDLESS_IKEV2_SUPPORTED: _flag,
    N.IKEV2_MESSAGE_ID_SYNC_SUPPORTED: _flag,
    N.IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED: _flag,
    N.IKEV2_MESSAGE_ID_SYNC: _mid_sync,
    N.SECURE_PASSWORD_METHODS: _list16,
    N.IKEV2_FRAGMENTATION_SUPPORTED: _flag,
    N.SIGNATURE_HASH_ALGORITHMS: _hash_algorithms,
    N.CLONE_IKE_SA_SUPPORTED: _flag,
    N.USE_PPK: _flag,
    N.PPK_IDENTITY: _ppk_identity,
    N.INTERMEDIATE_EXCHANGE_SUPPORTED: _flag,
    N.IP4_ALLOWED: _flag,
    N.IP6_ALLOWED: _flag,
    N.USE_AGGFRAG: _flag,
    N.SUPPORTED_AUTH_METHODS: _auth_methods,
    N.USE_PPK_INT: _flag,
}


def decode(notify_type: int, spi: bytes, data: bytes) -> NotifyDecoded | None:
    """Decode Notification Data per its RFC; None when the type's data has no known shape."""
    decoder = _DECODERS.get(notify_type)
    return None if decoder is None else decoder(spi, data)


__all__ = [
    "AuthAnnouncement",
    "NotifyAddress",
    "NotifyAuthMethods",
    "NotifyCookie",
    "NotifyCount",
    "NotifyDecoded",
    "NotifyFlag",
    "NotifyGroup",
    "NotifyHash",
    "NotifyHashAlgorithms",
    "NotifyIpcomp",
    "NotifyList16",
    "NotifyMalformed",
    "NotifyMessageId",
    "NotifyMessageIdSync",
    "NotifyPayloadType",
    "NotifyPpkIdentity",
    "NotifyRedirect",
    "NotifySpi",
    "decode",
]
