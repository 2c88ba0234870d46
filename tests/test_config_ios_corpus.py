"""The IOS reader against IOS configs others wrote, checked by a second, simpler reading.

Two corpora: the hand-written files in tests/data/configs/ios/corpus (always; they carry what
real files from lab guides and forums carry: CLI pastes with prompts, unindented scripts,
two-space indents with ``exit`` lines, profile-level keys, IPv6), and public configs on the
machine: ``IKEVIEW_IOS_CORPUS`` names a folder of config files or a git directory (a bare
mirror is read with ``git grep`` / ``git show``), by default the mirrors of the public
repositories in ``_PUBLIC`` (github:batfish/batfish's Cisco grammar test configs, Azure and
DMVPN/FlexVPN lab guides). Nothing of it is copied here.

The second reading knows no blocks or modes: it follows the last ``crypto ikev2 ...`` header
line by line and collects the words after ``encryption``/``integrity``/``group``,
``pre-shared-key`` and ``match identity remote``. Every value it finds must be what the reader
extracted (or named in the reader's notes), and the reader must never raise.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from config_support import DATA

from ikeview.config.ios import read_ios
from ikeview.config.load import read_config
from ikeview.config.records import DeviceConfig

HAND = DATA / "ios" / "corpus"
_PUBLIC = (
    "batfish+batfish",
    "jwrightazure+lab",
    "hdinthkld+gnj",
    "rbannist+AzureIaaS-CiscoCSR1000v-DMVPNandZBFW",
    "NGMunia+Dual-Hub-DMVPN",
    "fuatanshori+DMVPN-IKEV2-DUAL_HUB",
    "azghari-med+FlexVPN-Multi-Access-Hub-One-Config-Every-VPN-Type",
)
_MIRRORS = os.pathsep.join(f"/work/.mirror/{name}/repo" for name in _PUBLIC)
"""Public repositories with IOS configs as this machine's fetch tool mirrors them."""


def _corpus_dirs() -> list[Path]:
    spec = os.environ.get("IKEVIEW_IOS_CORPUS", _MIRRORS)
    return [Path(p) for p in spec.split(os.pathsep) if p and Path(p).is_dir()]


_PROMPT = re.compile(r"^\S+?(\([\w-]+\))?#\s*")
# Independent of ikeview's tables: the IANA numbers the IKEv2 keywords of IOS stand for.
_ENCR = {f"aes-cbc-{b}": (12, b) for b in (128, 192, 256)} | {
    f"aes-gcm-{b}": (20, b) for b in (128, 192, 256)
}
_INTEG = {"md5": 1, "sha1": 2, "sha256": 12, "sha384": 13, "sha512": 14}
_SECTION_WORDS = {
    "proposal": {"encryption", "integrity", "prf", "group"},
    "keyring": {"peer", "address", "identity", "hostname", "pre-shared-key", "description"},
    "profile": {"match", "identity", "authentication", "keyring", "lifetime", "dpd", "pki"},
    "policy": {"match", "proposal"},
}


@dataclass
class Simple:
    """What the second reading found."""

    proposals: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    keys: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(label as the reader names it, direction, words after the direction)."""
    identities: dict[str, list[list[str]]] = field(default_factory=dict)
    transform_sets: dict[str, list[str]] = field(default_factory=dict)


def simple_reading(text: str) -> Simple:
    out = Simple()
    kind: str | None = None
    name = peer = ""
    for raw in text.replace("\t", " ").splitlines():
        line = _PROMPT.sub("", raw) if _PROMPT.match(raw) else raw
        words = line.split()
        if not words or words[0].startswith("!") or words == ["exit"]:
            continue
        if words[:3] == ["crypto", "ipsec", "transform-set"] and len(words) > 4:
            out.transform_sets[words[3]] = words[4:]  # the later definition replaces
        if words[:2] == ["crypto", "ikev2"] and len(words) == 4:
            kind, name = words[2], words[3]
            out.proposals.setdefault(name, {}) if kind == "proposal" else None
            out.identities.setdefault(name, []) if kind == "profile" else None
            continue
        if kind not in _SECTION_WORDS or words[0] not in _SECTION_WORDS[kind]:
            if not line.startswith(" "):
                kind = None
            continue
        if kind == "proposal" and words[0] != "prf":
            seen = out.proposals[name].setdefault(words[0], [])
            seen.extend(w for w in words[1:] if w not in seen)
        elif kind == "keyring" and words[0] == "peer":
            peer = words[1]
        elif kind == "keyring" and words[0] == "pre-shared-key":
            side = words[1] if words[1] in ("local", "remote") else "both"
            rest = words[2:] if side != "both" else words[1:]
            suffix = "" if side == "both" else f" ({side})"
            out.keys.append((f"keyring {name} peer {peer}{suffix}", side, rest))
        elif kind == "profile" and words[:3] == ["match", "identity", "remote"]:
            out.identities[name].append(words[3:])
        elif (
            kind == "profile"
            and words[0] == "authentication"
            and words[2:4]
            == [
                "pre-share",
                "key",
            ]
        ):
            out.keys.append((f"crypto ikev2 profile {name} ({words[1]})", words[1], words[4:]))
    return out


def _files() -> Iterator[tuple[str, str]]:
    for path in sorted(HAND.iterdir()):
        yield path.name, path.read_text()
    for where in _corpus_dirs():
        gitdir = where / ".git" if (where / ".git" / "HEAD").exists() else where
        if (gitdir / "HEAD").exists() and (gitdir / "objects").is_dir():
            yield from _git_files(gitdir)
        else:
            for path in sorted(p for p in where.rglob("*") if p.is_file()):
                yield str(path), path.read_text(errors="replace")


def _git_files(gitdir: Path) -> Iterator[tuple[str, str]]:
    git = ["git", "--git-dir", str(gitdir)]
    pattern = r"^\s*([\w-]+(\([\w-]+\))?# ?)?crypto (ikev2|ipsec|map|dynamic-map) "
    found = subprocess.run([*git, "grep", "-lE", pattern, "HEAD"], capture_output=True, text=True)
    for ref in found.stdout.split():
        name = ref.split(":", 1)[1]
        if name.endswith((".java", ".g4", ".json", ".ref")) or "asa" in name.lower():
            continue  # grammar sources, expected outputs; ASA is not IOS (lab guides are read)
        shown = subprocess.run([*git, "show", ref], capture_output=True)
        if shown.returncode == 0:
            yield name, shown.stdout.decode(errors="replace")


def _noted(cfg: DeviceConfig, *words: str) -> bool:
    return any(all(w in n.text for w in words) for n in cfg.notes)


def _check_proposals(cfg: DeviceConfig, simple: Simple) -> int:
    used = {p.text.split()[3]: p for pol in cfg.policies for p in pol.proposals}
    checked = 0
    for name, lines in simple.proposals.items():
        prop = used.get(name)
        if prop is None:
            assert name == "default" or _noted(cfg, f"proposal {name} "), name
            continue
        groups = [int(g) for g in lines.get("group", []) if g.isdigit()]
        assert list(prop.ke) == groups, (name, prop.ke, groups)
        encr = [_ENCR[w] for w in lines.get("encryption", []) if w in _ENCR]
        assert [(i, b) for i, b in prop.encr if (i, b) in _ENCR.values()] == encr, name
        integ = [_INTEG[w] for w in lines.get("integrity", []) if w in _INTEG]
        assert list(prop.integ) == integ, (name, prop.integ, integ)
        for word in lines.get("encryption", []) + lines.get("integrity", []):
            assert word in _ENCR or word in _INTEG or word in ("3des", "des") or _noted(cfg, word)
        checked += 1
    return checked


def _check_keys(cfg: DeviceConfig, simple: Simple) -> int:
    last = {label: (label, side, rest) for label, side, rest in simple.keys}  # the later wins
    for label, side, rest in last.values():
        (psk,) = [p for p in cfg.psks if p.label == label and p.secret is not None] or [
            p for p in cfg.psks if p.label == label
        ][:1]
        assert psk.direction == side
        if rest[0] == "0" and len(rest) > 1:
            rest = rest[1:]
        if rest[0] not in ("6", "7") or len(rest) == 1:
            assert psk.secret == " ".join(rest).encode(), label
    return len(simple.keys)


_ESP_CIPHER = {"esp-aes": 12, "esp-gcm": 20, "esp-gmac": 21}
_ESP_FIXED = {"esp-3des": (3, None), "esp-des": (2, None), "esp-null": (11, None)}
_ESP_HMAC = {"esp-md5-hmac": 1, "esp-sha-hmac": 2, "esp-sha256-hmac": 12,
             "esp-sha384-hmac": 13, "esp-sha512-hmac": 14}  # fmt: skip


def _check_transform_sets(cfg: DeviceConfig, simple: Simple) -> int:
    used = {p.text.split()[3]: p for c in cfg.connections for ch in c.children
            for p in ch.proposals if p.text.startswith("crypto ipsec transform-set ")}  # fmt: skip
    for name, prop in used.items():
        words = simple.transform_sets[name]
        encr: list[tuple[int, int | None]] = []
        for i, w in enumerate(words):
            if w in _ESP_CIPHER:
                bits = words[i + 1] if i + 1 < len(words) and words[i + 1].isdigit() else "128"
                encr.append((_ESP_CIPHER[w], int(bits)))
            elif w in _ESP_FIXED:
                encr.append(_ESP_FIXED[w])
        assert list(prop.encr) == encr, (name, prop.encr, words)
        assert list(prop.integ) == [_ESP_HMAC[w] for w in words if w in _ESP_HMAC], name
    return len(used)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _check_identities(cfg: DeviceConfig, simple: Simple) -> int:
    conns = {c.name.split()[-1]: c for c in cfg.connections}
    checked = 0
    for name, matches in simple.identities.items():
        conn = conns[name]
        for words in matches:
            if not words or (
                words[0] == "address" and not _is_ip((words[1:2] and words[1].split("/")[0]) or "")
            ):
                continue  # a placeholder ("Azure-VNGpubip"): IOS itself refuses the line
            if words[0] == "address":
                addr = ipaddress.ip_address(words[1].split("/")[0])
                nets = [ipaddress.ip_network(r) for r in conn.remote_ids if "/" in r]
                assert any(addr in n for n in nets), (name, words, conn.remote_ids)
            elif words[0] != "any":
                want = f"*{words[-1]}" if words[1:2] == ["domain"] else words[-1]
                assert want in conn.remote_ids, (name, words, conn.remote_ids)
            checked += 1
    return checked


def test_corpus_agrees_with_a_second_reading() -> None:
    totals = dict.fromkeys(
        ("files", "lines", "skipped", "proposals", "keys", "identities", "transform_sets"), 0
    )
    wrong: list[str] = []
    for name, text in _files():
        cfg = read_ios(text, name, release="iosxe16")  # iosxe16: weak algorithms not refused
        simple = simple_reading(text)
        lines = sum(1 for line in text.splitlines() if line.strip())
        assert 0 <= cfg.skipped <= lines, name
        totals["files"] += 1
        totals["lines"] += lines
        totals["skipped"] += cfg.skipped
        try:
            totals["proposals"] += _check_proposals(cfg, simple)
            totals["keys"] += _check_keys(cfg, simple)
            totals["identities"] += _check_identities(cfg, simple)
            totals["transform_sets"] += _check_transform_sets(cfg, simple)
        except (AssertionError, KeyError, ValueError) as exc:
            wrong.append(f"{name}: {exc!r}")
    print("IOS corpus:", totals)
    assert not wrong, "\n".join(wrong)
    assert totals["proposals"] and totals["keys"] and totals["identities"]


@pytest.mark.skipif(
    not _corpus_dirs(),
    reason="no public IOS corpus on this machine (IKEVIEW_IOS_CORPUS or the fetched mirrors)",
)
def test_public_corpus_is_there() -> None:
    """Says in the test list whether the public configs were read, not only the hand-written."""
    assert sum(1 for _ in _files()) > len(list(HAND.iterdir()))


# --- the hand-written files, value by value (expected values read off each file's lines) ---


def _hand(name: str) -> DeviceConfig:
    return read_config((HAND / name).read_text(), name)


def test_cli_paste_with_prompts() -> None:
    """Every command follows a ``Hub1(config-...)#`` prompt, sub-commands are not indented,
    ``exit``/``end``/``conf t`` move between modes, and a ``show`` ends the paste."""
    cfg = _hand("cli-paste-prompts.txt")
    assert cfg.kind == "ios"  # told from "Hub1(config)#crypto ..." lines
    (pol,) = cfg.policies
    (prop,) = pol.proposals  # encryption aes-cbc-256 aes-cbc-128 / sha256 sha1 / group 19 14
    assert prop.encr == ((12, 256), (12, 128)) and prop.integ == (12, 2) and prop.ke == (19, 14)
    by_label = {p.label: p for p in cfg.psks}
    assert by_label["keyring KR-A peer spoke1 (local)"].secret == b"hub-to-spoke1"
    assert by_label["keyring KR-A peer spoke1 (remote)"].secret == b"spoke1-to-hub"
    spoke2 = by_label["keyring KR-A peer spoke2"]
    assert spoke2.secret == b"spoke2-both-ways" and spoke2.ids == ("spoke2.example.net",)
    (conn,) = cfg.connections
    assert conn.remote_ids == ("198.51.100.21/32", "spoke2.example.net")
    assert conn.local_id == "hub1.example.net" and conn.keyring == "KR-A"
    (child,) = conn.children  # typed at the profile's prompt: still a global command
    assert child.name == "crypto ipsec profile IPS-A" and child.pfs == (14,)
    assert child.proposals[0].encr == ((12, 256),) and child.proposals[0].integ == (12,)
    assert "198.51.100.1" not in cfg.local_addrs and "10.99.0.1" in cfg.local_addrs


def test_unindented_script() -> None:
    cfg = _hand("script-unindented.txt")
    assert cfg.hostname == "Branch7" and cfg.local_addrs == ("203.0.113.7",)
    (pol,) = cfg.policies
    # "match address local interface Gi1": IOS takes the abbreviation of GigabitEthernet1.
    assert (pol.match_local, pol.match_fvrf) == (("203.0.113.7",), "any")
    (prop,) = pol.proposals  # aes-gcm-256 aes-gcm-128 / prf sha384 sha256 / group 20 19
    assert prop.encr == ((20, 256), (20, 128)) and prop.prf == (6, 5) and prop.ke == (20, 19)
    local, remote = cfg.psks  # type 6 is unreadable; "7 070C285F4D06" is "cisco"
    assert (local.direction, local.secret, remote.direction) == ("local", None, "remote")
    assert remote.secret == b"cisco"
    (conn,) = cfg.connections
    assert conn.remote_ids == ("192.0.2.10/32", "hq-gateway")
    (child,) = conn.children
    assert child.name == "crypto map BR-MAP 10" and child.proposals[0].encr == ((20, 256),)
    assert (child.local_ts, child.remote_ts) == (("10.7.0.0/16",), ("10.0.0.0/8",))
    assert cfg.skipped == 1  # "ip route 0.0.0.0 0.0.0.0 203.0.113.1"


def test_two_space_indent_with_exit_lines() -> None:
    cfg = _hand("azure-style-exit.txt")
    assert cfg.skipped == 0  # "exit" is understood, not skipped
    (psk,) = cfg.psks  # "!" and "#" inside a key are part of it
    assert psk.secret == b"Clou!dKey#2024" and psk.peer == "192.0.2.200"
    (conn,) = cfg.connections
    (child,) = conn.children
    assert child.name == "crypto ipsec profile to-cloud-IPsecProfile"
    assert "192.0.2.200" in conn.remote_addrs  # "int tunnel 11" ... tunnel destination


def test_profile_level_keys_ipv6() -> None:
    """``authentication remote|local pre-share key`` in the profile: keys without a keyring,
    scoped to the peers the profile matches."""
    cfg = _hand("profile-keys-ipv6.cfg")
    remote, local = cfg.psks
    assert remote.label == "crypto ikev2 profile V6-PROF (remote)" and remote.direction == "remote"
    assert remote.secret == b"from-r7-to-r6" and local.secret == b"cisco"
    assert remote.peer == "2001:db8:12::2" and remote.ids == ("*example.org",)
    (conn,) = cfg.connections
    assert conn.remote_auth == "psk" and conn.local_id == "r6@example.org"
    assert conn.children[0].mode == "transport"


def test_quoted_indented_and_entered_again() -> None:
    """A document quotes the config indented as a whole (IOS ignores leading spaces: each
    ``crypto ...`` still opens its mode, ``crypto map SPOKE-MAP`` under the interface does
    not), then enters three blocks again: the proposal gains aes-cbc-128 and group 19 (20 is
    not repeated), the peer's key is replaced, the profile gains an identity."""
    cfg = _hand("quoted-indented-reentered.rst")
    assert cfg.kind == "ios" and cfg.hostname == "Spoke9"
    (pol,) = cfg.policies
    (prop,) = pol.proposals
    assert prop.encr == ((12, 256), (12, 128)) and prop.integ == (13,) and prop.ke == (20, 19)
    (psk,) = cfg.psks
    assert psk.secret == b"second-key-in-use" and psk.peer == "192.0.2.1"
    (conn,) = cfg.connections
    assert conn.remote_ids == ("192.0.2.1/32", "hub.example.net")
    (child,) = conn.children
    assert child.name == "crypto map SPOKE-MAP 10"
    assert (child.local_ts, child.remote_ts) == (("10.9.0.0/24",), ("10.0.0.0/16",))
    assert cfg.local_addrs == ("198.51.100.9",)


LAB_CONFIGS = sorted(p.name for p in (DATA / "ios").glob("*.cfg"))


@pytest.mark.parametrize("name", LAB_CONFIGS)
@pytest.mark.parametrize("style", ["unindented", "prompted"])
def test_lab_configs_read_the_same_pasted(name: str, style: str) -> None:
    """Every hand-written lab config, pasted as a script (no indentation) or as a CLI
    transcript (each line after an ``R1(config)#`` prompt), reads to the same records: the
    modes alone tell where each line belongs, as on the router."""
    text = (DATA / "ios" / name).read_text()
    lines = [line.lstrip(" ") for line in text.splitlines()]
    if style == "prompted":
        lines = [f"R1(config)#{line}" if line and not line.startswith("!") else line
                 for line in lines]  # fmt: skip
    plain = read_config(text, name)
    pasted = read_config("\n".join(lines), name)
    assert pasted == plain


def test_abbreviated_sub_commands() -> None:
    """IOS takes any unambiguous prefix of a keyword; configs typed by hand keep them
    (``auth local pre-share`` was found in a public lab config)."""
    text = (
        "crypto ikev2 profile P\n match identity remote fqdn a.example\n"
        " auth local pre-share\n auth remote rsa-sig\n keyr local K\n"
        "crypto ikev2 keyring K\n peer X\n  desc the peer\n  addr 192.0.2.9\n  pre-sh key1\n"
    )
    cfg = read_ios(text, "abbrev.cfg")
    (conn,) = cfg.connections
    assert (conn.local_auth, conn.remote_auth, conn.keyring) == ("psk", "pubkey", "K")
    (psk,) = cfg.psks
    assert (psk.secret, psk.peer) == (b"key1", "192.0.2.9") and cfg.skipped == 0
