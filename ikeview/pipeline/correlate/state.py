"""The IKE SA state machine: every change of ``IkeSa.state`` happens here.

Rules:

- An SA starts in one of three places: ``half-open`` when its IKE_SA_INIT request is seen
  (:data:`OPENED_BY_INIT`), ``established`` when a CREATE_CHILD_SA rekey made it
  (:data:`OPENED_BY_REKEY`), or ``established`` *inferred* when it is first seen mid-life
  (:data:`SEEN_MID_LIFE`: its IKE_SA_INIT is not in the capture).
- After that it moves only by :func:`advance`, on one of the :class:`Event` s the exchange
  handlers report, following :data:`TRANSITIONS`. A pair missing from the table leaves the
  state as it is (a delete of an SA that already failed, say).
- An event that *confirms* (:data:`CONFIRMING`) clears ``state_inferred`` whenever it moves the
  state: the capture showed it.
- Without keys an SA stays ``authenticating`` after its IKE_AUTH; :func:`settle` then infers
  ``established`` at snapshot time when every IKE_AUTH answer was unreadable, and says so.

The machine does not know which peer it is looking at, and does no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Protocol, get_args

from ikeview import iana
from ikeview.pipeline.model import Exchange, IkeSaState


class Event(Enum):
    """What an exchange did to its IKE SA."""

    INIT_ANSWERED = "IKE_SA_INIT answered with an SA"
    INIT_FAILED = "IKE_SA_INIT answered with an error"
    AUTH_DONE = "IKE_AUTH's last response carried AUTH and no AUTHENTICATION_FAILED"
    AUTH_FAILED = "IKE_AUTH answered with an error and no AUTH"
    REKEYED = "a CREATE_CHILD_SA made a successor IKE SA"
    DELETED = "a Delete payload of protocol IKE was sent"
    REDIRECTED = "IKE_SA_INIT or IKE_AUTH answered with REDIRECT (RFC 5685): the SA goes no further"


_STATES: tuple[IkeSaState, ...] = get_args(IkeSaState)

TRANSITIONS: dict[tuple[IkeSaState, Event], IkeSaState] = {
    ("half-open", Event.INIT_ANSWERED): "authenticating",
    ("half-open", Event.AUTH_DONE): "established",
    ("authenticating", Event.AUTH_DONE): "established",
    ("established", Event.REKEYED): "rekeyed",
    ("authenticating", Event.REKEYED): "rekeyed",
    ("half-open", Event.DELETED): "deleted",
    ("authenticating", Event.DELETED): "deleted",
    ("established", Event.DELETED): "deleted",
    # An error answer fails the SA whatever was believed before.
    **{(s, Event.INIT_FAILED): "failed" for s in _STATES},
    **{(s, Event.AUTH_FAILED): "failed" for s in _STATES},
    ("half-open", Event.REDIRECTED): "failed",
    ("authenticating", Event.REDIRECTED): "failed",
}
"""(state, event) -> next state."""

CONFIRMING = frozenset({Event.AUTH_DONE, Event.AUTH_FAILED, Event.DELETED, Event.REDIRECTED})
"""Events that clear ``state_inferred`` when they move the state."""

OPENED_BY_INIT: tuple[IkeSaState, bool] = ("half-open", False)
OPENED_BY_REKEY: tuple[IkeSaState, bool] = ("established", False)
SEEN_MID_LIFE: tuple[IkeSaState, bool] = ("established", True)
"""Starting (state, inferred) pairs."""


class HasState(Protocol):
    state: IkeSaState
    state_inferred: bool
    established_ts: float | None


def advance(sa: HasState, event: Event, ts: float | None = None) -> bool:
    """Move ``sa`` along :data:`TRANSITIONS`; True when the state changed.

    Reaching ``established`` by an event records ``ts`` as the time it was established.
    """
    nxt = TRANSITIONS.get((sa.state, event))
    if nxt is None:
        return False
    sa.state = nxt
    if event in CONFIRMING:
        sa.state_inferred = False
    if nxt == "established" and ts is not None:
        sa.established_ts = ts
    return True


def settle(
    state: IkeSaState, inferred: bool, established_ts: float | None, exchanges: Iterable[Exchange]
) -> tuple[IkeSaState, bool, float | None]:
    """The state a snapshot shows: without keys, an answered IKE_AUTH without a clear error
    most likely established the SA (said to be inferred)."""
    if state != "authenticating":
        return state, inferred, established_ts
    answers = [
        e.response
        for e in exchanges
        if e.exchange_type == iana.ExchangeType.IKE_AUTH and e.response is not None
    ]
    if answers and all(not r.decrypted for r in answers):
        return "established", True, answers[-1].ts
    return state, inferred, established_ts
