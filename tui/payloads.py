"""One-line labels and detail lines for payload records (duck-typed: the TUI may not import the
dissector's classes, so each payload is recognised by the fields it carries)."""

from __future__ import annotations

from ikeview.pipeline import names
from ikeview.pipeline.model import ts_text

from . import text

_SHOW_BYTES = 16
"""Bytes of a long value shown in hex before ``…``."""


def _hex(data: bytes) -> str:
    if len(data) <= _SHOW_BYTES:
        return data.hex()
    return f"{data[:_SHOW_BYTES].hex()}… ({len(data)} bytes)"


def payload_label(p: object) -> str:
    """``N(NAT_DETECTION_SOURCE_IP)``, ``SA (2 proposals)``, ``AUTH SHARED_KEY_MIC``…"""
    kind = names.payload_name(p.payload_type)  # type: ignore[attr-defined]
    if hasattr(p, "notify_type"):
        return f"{kind}({names.notify_name(p.notify_type)})"
    if hasattr(p, "proposals"):
        return f"{kind} ({len(p.proposals)} proposals)"
    if hasattr(p, "group") and hasattr(p, "data"):
        return f"{kind} {names.transform_name(4, p.group)}"
    if hasattr(p, "id_type"):
        return f"{kind} {names.id_type_name(p.id_type)} {p.text}"
    if hasattr(p, "method"):
        return f"{kind} {names.auth_method_name(p.method)}"
    if hasattr(p, "selectors"):
        return f"{kind} " + ", ".join(ts_text(s) for s in p.selectors)
    if hasattr(p, "fragment_number"):
        return f"{kind} fragment {p.fragment_number}/{p.total_fragments}"
    if hasattr(p, "spis") and hasattr(p, "spi_size"):
        return f"{kind} {names.protocol_name(p.protocol_id)} x{len(p.spis)}"
    if hasattr(p, "name") and hasattr(p, "data"):
        return f"{kind} {p.name or _hex(p.data)}"
    return kind


def payload_details(p: object) -> list[str]:
    """Detail lines shown as leaves under the payload's node."""
    lines = [f"offset {p.offset}, length {p.length}" + (", critical" if p.critical else "")]  # type: ignore[attr-defined]
    if hasattr(p, "proposals"):
        for prop in p.proposals:
            lines.append(
                f"proposal #{prop.number} {names.protocol_name(prop.protocol_id)}"
                + (f" SPI {prop.spi.hex()}" if prop.spi else "")
                + f": {text.transforms_short(prop.transforms)}"
            )
    elif hasattr(p, "notify_type"):
        if p.spi:
            lines.append(f"{names.protocol_name(p.protocol_id)} SPI {p.spi.hex()}")
        if p.decoded is not None and p.data:
            lines.append(f"decoded: {p.decoded}")
        elif p.data:
            lines.append(f"data {_hex(p.data)}")
    elif hasattr(p, "group") and hasattr(p, "data"):
        lines.append(f"public value {_hex(p.data)}")
    elif hasattr(p, "method"):
        sig = getattr(p, "signature", None)
        if sig is not None:
            lines.append(f"signature algorithm {sig.algorithm}")
        lines.append(f"data {_hex(p.data)}")
    elif hasattr(p, "spis") and hasattr(p, "spi_size"):
        lines.extend(f"SPI {s.hex()}" for s in p.spis)
    elif hasattr(p, "attributes") and hasattr(p, "cfg_type"):
        lines.extend(f"attribute {a.attr_type}: {_hex(a.value)}" for a in p.attributes)
    elif hasattr(p, "first_inner"):
        lines.append(f"first inner payload {names.payload_name(p.first_inner)}")
    elif hasattr(p, "encoding"):
        lines.append(f"encoding {p.encoding}, {len(p.data)} bytes")
    elif hasattr(p, "data") and not hasattr(p, "selectors"):
        lines.append(f"data {_hex(p.data)}")
    return lines


def is_auth(p: object) -> bool:
    """An AUTH payload."""
    return hasattr(p, "method") and hasattr(p, "data")


def is_sk(p: object) -> bool:
    """An SK or SKF payload."""
    return hasattr(p, "first_inner")
