"""The vocabulary every layer shares: IANA's IKEv2 registries and the names printed for them.

This package is the bottom of ikeview: data only, importing nothing but the standard library
(tests/test_architecture.py checks it), so the dissectors, crypto, key readers, pipeline, config,
diagnosis and views can all use one set of numbers and names instead of each keeping a copy.

- :mod:`ikeview.iana.registries`: one ``IntEnum`` per IANA registry and a ``Registry`` wrapper
  whose ``name()`` never raises (RESERVED / UNASSIGNED / PRIVATE_USE ranges named too).
- :mod:`ikeview.iana.names`: the naming helpers built on them (IANA, strongSwan and short
  display names of transforms and proposals, EAP methods, ESP Next Header values).

``ikeview.dissectors.iana`` re-exports the registries for code written before the move. The
package loads :mod:`~ikeview.iana.registries` only when one of its names is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ikeview.iana.registries import (
        AUTH_METHODS,
        CERT_ENCODINGS,
        CFG_ATTRIBUTES,
        CFG_TYPES,
        DH_GROUPS,
        ENCR,
        ESN,
        EXCHANGE_TYPES,
        HASH_ALGORITHMS,
        ID_TYPES,
        INTEG,
        NOTIFY_TYPES,
        PAYLOAD_TYPES,
        PRF,
        PROTOCOL_IDS,
        REGISTRIES,
        TRANSFORM_ID_REGISTRIES,
        TRANSFORM_TYPES,
        TS_TYPES,
        AuthMethod,
        CertEncoding,
        CfgAttribute,
        CfgType,
        DhGroup,
        EncrId,
        EsnId,
        ExchangeType,
        HashAlgorithm,
        IdType,
        IntegId,
        NotifyType,
        PayloadType,
        PrfId,
        ProtocolId,
        Registry,
        TransformType,
        TsType,
        transform_id_name,
    )


def __getattr__(name: str) -> object:
    """The registries load on first use (PEP 562): a command reading ESP alone names no IKE
    number and never creates the ~20 ``IntEnum`` classes (~3 ms of start-up)."""
    if name in __all__:
        from ikeview.iana import registries

        # Bound in this module once loaded, so that later uses find them in its namespace:
        # through this hook each use cost an import lookup (a JSON report of 1,003 IKE
        # messages named ~3,500 numbers, 2-3 ms of its ~30 ms of rendering).
        globals().update((n, getattr(registries, n)) for n in __all__)
        return getattr(registries, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AUTH_METHODS",
    "CERT_ENCODINGS",
    "CFG_ATTRIBUTES",
    "CFG_TYPES",
    "DH_GROUPS",
    "ENCR",
    "ESN",
    "EXCHANGE_TYPES",
    "HASH_ALGORITHMS",
    "ID_TYPES",
    "INTEG",
    "NOTIFY_TYPES",
    "PAYLOAD_TYPES",
    "PRF",
    "PROTOCOL_IDS",
    "REGISTRIES",
    "TRANSFORM_ID_REGISTRIES",
    "TRANSFORM_TYPES",
    "TS_TYPES",
    "AuthMethod",
    "CertEncoding",
    "CfgAttribute",
    "CfgType",
    "DhGroup",
    "EncrId",
    "EsnId",
    "ExchangeType",
    "HashAlgorithm",
    "IdType",
    "IntegId",
    "NotifyType",
    "PayloadType",
    "PrfId",
    "ProtocolId",
    "Registry",
    "TransformType",
    "TsType",
    "transform_id_name",
]
