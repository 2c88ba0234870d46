"""DH groups IOS has and has not, in both directions: the reader leaves out (and names) a group
a router would refuse, the writer lists it as not expressible instead of writing it.

IOS / IOS XE groups (ikeview/config/ios_defaults.py ``IOS_GROUPS`` says where each was
confirmed): 1, 2, 5, 14, 15, 16, 19, 20, 21, 24. The chacha-x25519 capture negotiated
CURVE_25519 (group 31) with ChaCha20-Poly1305 (its truth.json)."""

from __future__ import annotations

import pytest
from config_support import LAB
from ikeview.dissectors.ike_records import Proposal, Transform

from ikeview.config.ios import read_ios
from ikeview.config.ios_defaults import IOS_GROUPS
from ikeview.config.writers import ios_words, write_configs
from ikeview.keys.loader import load_keys
from ikeview.pipeline.analyze import analyze

NOT_IOS = (17, 18, 22, 23, 25, 26, 27, 28, 29, 30, 31, 32)


def _ike(groups: tuple[int, ...]) -> Proposal:
    transforms = [Transform(1, 12, 256, (), 0), Transform(2, 5, None, (), 0),
                  Transform(3, 12, None, (), 0)]  # fmt: skip
    transforms += [Transform(4, g, None, (), 0) for g in groups]
    return Proposal(1, 1, b"", tuple(transforms), 0)


def test_the_ios_groups() -> None:
    assert sorted(IOS_GROUPS) == [1, 2, 5, 14, 15, 16, 19, 20, 21, 24]


@pytest.mark.parametrize("group", NOT_IOS)
def test_writer_lists_a_group_ios_lacks_as_lost(group: int) -> None:
    line, lost = ios_words(_ike((group, 19)))
    assert line.endswith(" group 19") and f"group {group} " not in line
    assert [x for x in lost if x.startswith(f"group {group} (")]


@pytest.mark.parametrize("group", sorted(IOS_GROUPS))
def test_writer_writes_every_ios_group(group: int) -> None:
    line, lost = ios_words(_ike((group,)))
    assert line.endswith(f" group {group}") and lost == []


def test_writer_on_a_curve25519_capture() -> None:
    keys = load_keys([LAB / "chacha-x25519" / "keys.toml"])
    analysis = analyze(LAB / "chacha-x25519" / "capture.pcap", keys)
    text = write_configs(analysis, kind="ios", sides=("responder",), keyring=keys)["responder"]
    (note,) = [line for line in text.splitlines() if line.startswith("! NOTE: IOS has no ")]
    assert "group 31 (" in note and "ENCR_CHACHA20_POLY1305" in note
    assert not any(line.strip().startswith("group") for line in text.splitlines())


def test_reader_leaves_out_groups_ios_lacks() -> None:
    text = (
        "crypto ikev2 proposal P\n encryption aes-cbc-256\n integrity sha256\n"
        " group 31 19 17 14\n"
        "crypto ikev2 policy POL\n proposal P\n"
        "crypto ipsec profile IPS\n set pfs group31\n"
    )
    cfg = read_ios(text, "g.cfg")
    (prop,) = cfg.policies[0].proposals
    assert prop.ke == (19, 14)
    notes = [n.text for n in cfg.notes if n.code == "config-unknown-algorithm"]
    assert any("group 31 17 is not a DH group IOS has" in n for n in notes)
    assert any("set pfs group31" in n for n in notes)


def test_set_pfs_without_a_group_is_group_1() -> None:
    """Cisco: "The default (group1) is sent if the set pfs statement does not specify a
    group" (knowledge-base article on set pfs)."""
    text = "crypto ikev2 profile P\ncrypto ipsec profile IPS\n set pfs\n set ikev2-profile P\n"
    (conn,) = read_ios(text, "pfs.cfg", release="iosxe16").connections
    assert conn.children[0].pfs == (1,)
