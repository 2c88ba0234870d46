"""Lines of the text views the screen opens (the SA card with its config checks), kept apart
from the screen so they can be tested without an app."""

from __future__ import annotations

from ikeview.pipeline.model import Analysis, IkeSa

from . import loading
from .loading import LoadRequest, config_pending

CONFIG_HINT = "start with --config FILE (a swanctl.conf, ipsec.conf or IOS config) to compare"
"""What the card says when no device config was given."""


def pending_note(request: LoadRequest, analysis: Analysis | None) -> str | None:
    """Why the config checks are not shown yet (None when they are, or none were asked for)."""
    if analysis is None or not config_pending(request, analysis):
        return None
    return (
        f"--config: checked once the load ends (more than {loading.CHECK_PARTIAL_UP_TO} IKE SAs: "
        "partial snapshots are not checked)"
    )


def card_config_lines(sa: IkeSa, request: LoadRequest, analysis: Analysis | None) -> list[str]:
    """The card's last section: how the SA compares with the --config device configs."""
    from ikeview.config.render import sa_lines

    if not request.configs:
        return ["", "Config checks: none asked for", f"  {CONFIG_HINT}"]
    pending = pending_note(request, analysis)
    if pending is not None:
        return ["", "Config checks:", f"  {pending}"]
    checks = sa_lines(sa)
    if not checks:
        return ["", "Config checks: no device config applies to this IKE SA"]
    return ["", "Config checks:", *checks]
