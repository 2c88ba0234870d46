"""The IKE SA state machine (correlate/state.py) and the seam's ESP observer, checked directly.

Expected states follow RFC 7296: IKE_SA_INIT answered -> authenticating (1.2), IKE_AUTH with
AUTH -> established (1.2, 2.16), a Delete of protocol IKE ends the SA (1.4.1), a CREATE_CHILD_SA
rekey replaces it (1.3.2); an error answer fails it (3.10.1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from lab_support import Lab

from ikeview.pipeline.analyze import iter_analysis
from ikeview.pipeline.correlate import state
from ikeview.pipeline.model import IkeSaState

E = state.Event


@dataclass
class _Sa:
    state: IkeSaState
    state_inferred: bool = False
    established_ts: float | None = None


@pytest.mark.parametrize(
    ("start", "events", "end"),
    [
        ("half-open", [E.INIT_ANSWERED, E.AUTH_DONE], "established"),
        ("half-open", [E.INIT_ANSWERED, E.AUTH_DONE, E.REKEYED], "rekeyed"),
        ("half-open", [E.INIT_ANSWERED, E.AUTH_DONE, E.DELETED], "deleted"),
        ("half-open", [E.INIT_FAILED], "failed"),
        ("half-open", [E.INIT_ANSWERED, E.AUTH_FAILED], "failed"),
        # Nothing moves a failed or deleted SA back to life.
        ("failed", [E.INIT_ANSWERED, E.AUTH_DONE, E.DELETED, E.REKEYED], "failed"),
        ("deleted", [E.AUTH_DONE, E.REKEYED], "deleted"),
        # A rekeyed SA still sends its own Delete (RFC 7296 2.18): it stays "rekeyed".
        ("rekeyed", [E.DELETED], "rekeyed"),
    ],
)
def test_transitions(start: IkeSaState, events: list[state.Event], end: IkeSaState) -> None:
    sa = _Sa(start)
    for event in events:
        state.advance(sa, event, 1.0)
    assert sa.state == end


def test_confirming_events_clear_the_inferred_flag_and_time_the_establishment() -> None:
    sa = _Sa(*state.SEEN_MID_LIFE)
    assert (sa.state, sa.state_inferred) == ("established", True)
    assert state.advance(sa, E.DELETED, 5.0)
    assert (sa.state, sa.state_inferred) == ("deleted", False)
    opened = _Sa(*state.OPENED_BY_INIT)
    state.advance(opened, E.INIT_ANSWERED, 1.0)
    assert opened.established_ts is None
    state.advance(opened, E.AUTH_DONE, 2.0)
    assert opened.established_ts == 2.0
    assert not state.advance(opened, E.AUTH_DONE, 3.0)  # already established
    assert opened.established_ts == 2.0


@pytest.mark.parametrize("keys", [True, False], ids=["keys", "no-keys"])
def test_on_esp_sees_every_esp_packet(lab: Callable[[str], Lab], keys: bool) -> None:
    scenario = lab("rekey-dpd")
    seen: list[tuple[int, bool]] = []
    steps = list(
        iter_analysis(
            scenario.capture,
            scenario.keyring if keys else None,
            on_esp=lambda pkt, opened: seen.append((pkt.spi, opened.decrypted)),
        )
    )
    final = steps[-1].analysis
    assert len(seen) == final.counters.esp_packets > 0
    assert sum(d for _, d in seen) == final.counters.esp_decrypted
    assert final.counters.esp_decrypted == (final.counters.esp_packets if keys else 0)
