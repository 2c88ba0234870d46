"""The PSKs of device configs as key records, scoped as the configs scope them.

A swanctl ``secrets ike-*`` section becomes a Psk bound to its first identity (both AUTHs of an
SA carry both identities, so either serves); an IOS keyring peer's key is bound to the peer's
host address and identity. Each Psk is labelled ``FILE: <the config's name for it>`` so that the
AUTH it verifies (``AuthSide.psk``) names the keyring peer and the ``local``/``remote`` key.
Unreadable keys (IOS type 6) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from ikeview.config.records import ConfigPsk, DeviceConfig
from ikeview.keys.model import KeyRing, Psk, SourceRef


def _psk(cfg: DeviceConfig, p: ConfigPsk) -> Psk | None:
    if p.secret is None:
        return None
    return Psk(
        secret=p.secret,
        label=f"{cfg.path}: {p.label}",
        peer=p.peer,
        # A key bound to a host address is found by address (IOS keyring peers): the peer's
        # identity may never have been sent (a failed IKE_AUTH).
        id=p.ids[0] if p.ids and not p.peer else None,
        source=SourceRef(cfg.path, p.line),
    )


def psk_label(cfg: DeviceConfig, p: ConfigPsk) -> str:
    """The text ``AuthSide.psk`` carries when this key verified an AUTH."""
    return f"{cfg.path}: {p.label} ({SourceRef(cfg.path, p.line)})"


def config_keyring(configs: Sequence[DeviceConfig]) -> KeyRing:
    """Every readable PSK of the configs, in file order (merge it *before* other keys so the
    config's keys are the ones tried first)."""
    return KeyRing(psks=tuple(k for c in configs for p in c.psks if (k := _psk(c, p))))
