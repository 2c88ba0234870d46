"""Names of the IANA numbers the model carries, for the views: re-exported from their one home,
:mod:`ikeview.iana.names` (kept so existing imports of ``ikeview.pipeline.names`` still work)."""

from __future__ import annotations

from ikeview.iana.names import (
    auth_method_name,
    exchange_name,
    id_type_name,
    next_header_name,
    notify_name,
    payload_name,
    protocol_name,
    transform_name,
    transform_type_name,
)

__all__ = [
    "auth_method_name",
    "exchange_name",
    "id_type_name",
    "next_header_name",
    "notify_name",
    "payload_name",
    "protocol_name",
    "transform_name",
    "transform_type_name",
]
