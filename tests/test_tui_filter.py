"""The filter (issue #12): everyday words find RFC names, field filters, and the ladder never
shows an SA the tree hides. Expected frames read from the captures (tshark -V)."""

from __future__ import annotations

from ikeview.tui.app import make_app
from ikeview.tui.filtering import Filter
from ikeview.tui.widgets.ladder import Ladder
from ikeview.tui.widgets.sa_tree import NodeRef, SaTree
from tui_support import LAB, SIZE, loaded, no_animations, sync  # noqa: F401 (autouse fixture)

from ikeview.keys.loader import load_keys
from ikeview.pipeline.analyze import analyze


def shown(capture: str, typed: str) -> list[int]:
    """Indexes of the IKE SAs the filter accepts."""
    cap = LAB / capture
    a = analyze(cap / "capture.pcap", load_keys([cap / "keys.toml"]))
    return [i for i, sa in enumerate(a.ike_sas) if Filter(typed).accepts_sa(sa)]


def test_words_find_rfc_names() -> None:
    """rekey-dpd: the second IKE SA holds the liveness checks (INFORMATIONAL 25 and 27, empty
    requests: RFC 7296 2.4's DPD); 'rekey' and 'delete' find the first; 'nat' both (both
    IKE_SA_INITs carry NAT_DETECTION_* notifies)."""
    assert shown("rekey-dpd", "dpd") == [1]
    assert shown("rekey-dpd", "rekey") == [0]
    assert 0 in shown("rekey-dpd", "delete")
    assert shown("rekey-dpd", "nat") == [0]


def test_field_filters() -> None:
    """frame:, exchange:, notify:, peer:, spi: each look at one field only."""
    assert shown("rekey-dpd", "frame:27") == [1]
    assert shown("rekey-dpd", "frame:2") == [0]  # not frames 20-29: the number is exact
    assert shown("rekey-dpd", "exchange:create_child") == [0]
    assert shown("auth-failed", "notify:authentication_failed") == [0]
    assert shown("auth-failed", "notify:no_proposal") == []
    assert shown("rekey-dpd", "peer:192.0.2.2") == [0, 1]
    assert shown("rekey-dpd", "peer:10.9.9.9") == []
    cap = LAB / "rekey-dpd"
    a = analyze(cap / "capture.pcap", load_keys([cap / "keys.toml"]))
    child = a.ike_sas[0].child_sas[0]
    assert Filter(f"spi:0x{child.spi_initiator:08x}").accepts_sa(a.ike_sas[0])
    assert Filter(f"spi:{a.ike_sas[1].spi_i.hex()}").accepts_sa(a.ike_sas[1])
    # The first SA's rekey names the second's SPI in its SA payload, so both match that one;
    # the first SA's own SPI appears nowhere in the second.
    assert not Filter(f"spi:{a.ike_sas[0].spi_i.hex()}").accepts_sa(a.ike_sas[1])


@sync
async def test_ladder_follows_the_tree() -> None:
    """rekey-dpd: typing frame:27 hides the first SA; the ladder moves to the second, never
    showing an SA the tree hides."""
    cap = LAB / "rekey-dpd"
    async with make_app(cap / "capture.pcap", keys=[cap / "keys.toml"]).run_test(
        size=SIZE
    ) as pilot:
        screen = await loaded(pilot)
        first, second = screen.analysis.ike_sas  # type: ignore[union-attr]
        assert screen.selected == NodeRef(first.spis)
        await pilot.press("slash", *"frame:27")
        await pilot.pause()
        tree = screen.query_one(SaTree)
        assert [n.data for n in tree.root.children] == [NodeRef(second.spis)]
        assert screen.selected == NodeRef(second.spis)
        ladder = screen.query_one(Ladder)
        frames = {ladder.message_at(i).frame for i in range(1, ladder.option_count)}  # type: ignore[union-attr]
        assert frames == {m.frame for m in second.messages}
