"""Rekeys in the strongSwan lab captures, followed as RFC 7296 says; expectations from
truth.json (charon's logs: which SA rekeyed which, which one was redundant) and its log lines.

- rekey-dpd: the child SA rekeyed with PFS (0c95ce69) survives the IKE SA rekey and moves to the
  new IKE SA (RFC 7296 1.3.2); the old IKE SA is deleted, and the child ends with the new one.
- rekey-collision: both peers rekey the child SA at once ("CHILD_SA rekey collision lost,
  deleting redundant child" in responder.log); the child SA of the exchange with the lowest
  nonce is redundant (RFC 7296 2.8.1).
- ike-rekey-collision: the same for the IKE SA ("IKE_SA rekey collision lost, deleting redundant
  IKE_SA"); the old SA's successor is the winner, and the child SA lives under it.
"""

from __future__ import annotations

from collections.abc import Callable

from lab_support import Lab

from ikeview.pipeline.model import Analysis, ChildSa


def _load(sc: Lab) -> tuple[Analysis, dict]:
    return sc.analysis, sc.truth


def _spis(child: ChildSa) -> set[str]:
    return {f"{child.spi_initiator:08x}", f"{child.spi_responder:08x}"}


def _truth_spis(child: dict) -> set[str]:
    return {e["spi"] for e in child["esp"]}


def test_children_follow_the_ike_sa_rekey(lab: Callable[[str], Lab]) -> None:
    a, truth = _load(lab("rekey-dpd"))
    old_t, new_t = truth["ike_sas"]
    assert new_t["rekey_of"] == {"spi_i": old_t["spi_i"], "spi_r": old_t["spi_r"]}
    old = a.ike_sa(bytes.fromhex(old_t["spi_i"]), bytes.fromhex(old_t["spi_r"]))
    new = a.ike_sa(bytes.fromhex(new_t["spi_i"]), bytes.fromhex(new_t["spi_r"]))
    assert old is not None and new is not None
    assert old.rekeyed_into == new.spis and new.rekey_of == old.spis
    assert old.state == "rekeyed" and old.deleted_ts is not None
    first_t, pfs_t = truth["child_sas"]  # IKE_AUTH's child, its PFS rekey
    # The first child was rekeyed and deleted before the IKE SA rekey: it stays with the old SA.
    assert [_spis(c) for c in old.child_sas] == [_truth_spis(first_t)]
    assert old.child_sas[0].deleted_ts is not None
    assert old.child_sas[0].deleted_ts < old.deleted_ts
    # The surviving child moved to the new IKE SA and ends when that SA is deleted.
    (moved,) = new.child_sas
    assert _spis(moved) == _truth_spis(pfs_t) and moved.ike_sa == new.spis
    assert new.deleted_ts is not None and moved.deleted_ts == new.deleted_ts
    assert all(s.decrypted == s.packets > 0 for s in moved.esp)


def test_child_rekey_collision_marks_the_redundant_child(lab: Callable[[str], Lab]) -> None:
    a, truth = _load(lab("rekey-collision"))
    (sa,) = a.ike_sas
    by_spis = {frozenset(_spis(c)): c for c in sa.child_sas}
    assert set(by_spis) == {frozenset(_truth_spis(c)) for c in truth["child_sas"]}
    redundant = [c for c in truth["child_sas"] if c.get("redundant")]
    assert len(redundant) == 1
    for c in truth["child_sas"]:
        assert by_spis[frozenset(_truth_spis(c))].redundant == bool(c.get("redundant"))
    # The original child's successor is the winner, not the redundant one.
    original = by_spis[frozenset(_truth_spis(truth["child_sas"][0]))]
    winner = next(c for c in truth["child_sas"][1:] if not c.get("redundant"))
    assert original.rekeyed_by is not None
    assert {f"{s:08x}" for s in original.rekeyed_by} == _truth_spis(winner)


def test_ike_rekey_collision_marks_the_redundant_ike_sa(lab: Callable[[str], Lab]) -> None:
    a, truth = _load(lab("ike-rekey-collision"))
    by_spis = {(s.spi_i.hex(), s.spi_r.hex()): s for s in a.ike_sas}
    old_t = next(s for s in truth["ike_sas"] if s["rekey_of"] is None)
    winner_t = next(s for s in truth["ike_sas"] if s["rekey_of"] and not s.get("redundant"))
    loser_t = next(s for s in truth["ike_sas"] if s.get("redundant"))
    old = by_spis[(old_t["spi_i"], old_t["spi_r"])]
    winner = by_spis[(winner_t["spi_i"], winner_t["spi_r"])]
    loser = by_spis[(loser_t["spi_i"], loser_t["spi_r"])]
    assert old_t["rekeyed_by"] == {"spi_i": winner_t["spi_i"], "spi_r": winner_t["spi_r"]}
    assert old.rekeyed_into == winner.spis
    assert loser.redundant and not winner.redundant and not old.redundant
    assert loser.deleted_ts is not None
    (child_t,) = truth["child_sas"]
    assert [_spis(c) for c in winner.child_sas] == [_truth_spis(child_t)]
    assert not old.child_sas and not loser.child_sas
