"""swanctl.conf syntax for the config readers: ``ikeview.keys.swanctl_syntax`` (shared with the
``--keys swanctl.conf`` reader, so both read a file the same way), with its errors as this
package's :class:`~ikeview.config.records.ConfigError`."""

from __future__ import annotations

from ikeview.config.records import ConfigError
from ikeview.keys import swanctl_syntax as _syntax
from ikeview.keys.swanctl_syntax import Resolver, Section, Token


def parse(text: str, file: str, resolver: Resolver | None = None) -> tuple[Section, int, list[str]]:
    """See :func:`ikeview.keys.swanctl_syntax.parse`; raises this package's ConfigError."""
    try:
        return _syntax.parse(text, file, resolver)
    except _syntax.ConfigError as e:
        raise ConfigError(e.msg) from None


__all__ = ["Resolver", "Section", "Token", "parse"]
