"""Libreswan's own tests as a corpus, when its source is on this machine (see
tests/upstream_corpus.py; skipped otherwise; tests/test_config_ipsec_conf.py holds hand-written
configs with the same constructs).

- testing/pluto/algparse-01/west.console.txt: what ``ipsec algparse -v2`` prints for hundreds
  of ``ike=`` / ``esp=`` strings (the algorithms, or the error): ikeview's Libreswan grammar
  must accept and refuse the same strings and give the same algorithms.
- every ipsec.conf-shaped file under testing/pluto: read without an exception; a proposal it
  cannot read must be one pluto refused too (the test's console output says "failed to add
  connection"), or one algparse-01 refuses.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import pytest
from upstream_corpus import read_tree, source, tree_resolver

from ikeview.config.ipsec_conf import read_ipsec_conf
from ikeview.config.libreswan_words import parse_libreswan
from ikeview.config.load import detect
from ikeview.config.proposals import ConfProposal

SRC = source("libreswan")
pytestmark = pytest.mark.skipif(
    SRC is None, reason="Libreswan source not on this machine (set IKEVIEW_LIBRESWAN_SRC)"
)

# algparse's names (lib/libswan/ike_alg_*.c .fqn) to IANA ids.
ENCR = {"AES_CBC": 12, "AES_CTR": 13, "AES_CCM_8": 14, "AES_CCM_12": 15, "AES_CCM_16": 16,
        "AES_GCM_8": 18, "AES_GCM_12": 19, "AES_GCM_16": 20, "NULL_AUTH_AES_GMAC": 21,
        "CAMELLIA_CBC": 23, "CAMELLIA_CTR": 24, "CHACHA20_POLY1305": 28, "3DES_CBC": 3,
        "NULL": 11}  # fmt: skip
PRF = {"HMAC_SHA1": 2, "HMAC_SHA2_256": 5, "HMAC_SHA2_384": 6, "HMAC_SHA2_512": 7,
       "HMAC_MD5": 1, "AES_XCBC": 4}  # fmt: skip
INTEG = {"HMAC_SHA1_96": 2, "HMAC_SHA2_256_128": 12, "HMAC_SHA2_384_192": 13,
         "HMAC_SHA2_512_256": 14, "HMAC_MD5_96": 1, "AES_XCBC_96": 5, "AES_CMAC_96": 8}  # fmt: skip
KE = {"MODP1536": 5, "MODP2048": 14, "MODP3072": 15, "MODP4096": 16, "MODP6144": 17,
      "MODP8192": 18, "DH19": 19, "DH20": 20, "DH21": 21, "DH31": 31, "NONE": 0,
      "ML_KEM_512": 35, "ML_KEM_768": 36, "ML_KEM_1024": 37}  # fmt: skip
_CASE = re.compile(r"^algparse --ikev2 (--pfs )?'(ike|esp)=(.*)' \(expect (SUCCESS|ERROR)\)$")


@cache
def corpus() -> dict[str, str]:
    assert SRC is not None
    return read_tree(SRC, lambda n: n.startswith("testing/") and (
        n.endswith((".conf", ".secrets", "console.txt"))))  # fmt: skip


def _encr(name: str, proto: str) -> list[tuple[int, int | None]]:
    if (m := re.fullmatch(r"(.+?)_(\d{3})", name)) and m[1] in ENCR:
        return [(ENCR[m[1]], int(m[2]))]
    ident = ENCR[name]
    if ident in (3, 11, 28):
        return [(ident, None)]
    # ikev2_proposals.c: no key length = IKE 256 then 128, ESP 128 then 256.
    return [(ident, 256), (ident, 128)] if proto == "ike" else [(ident, 128), (ident, 256)]


def _expected(line: str, proto: str) -> tuple[list[object], list[int], list[int], list[int]]:
    """(encr, prf, integ, ke) of one algparse output line; integ is [] when only implied."""
    encr_field, *rest = line.split("-")
    encr: list[object] = []
    for name in encr_field.split("+"):
        encr += [e for e in _encr(name, proto) if e not in encr]
    prf: list[int] = []
    integ: list[int] = []
    ke: list[int] = []
    for fld in rest:
        names = fld.split("+")
        if proto == "ike" and not prf and all(n in PRF for n in names):
            prf = [PRF[n] for n in names]
        elif not integ and not ke and all(n in INTEG for n in names):
            integ = [INTEG[n] for n in names]
        else:
            ke = [KE[n] for n in names if KE[n]]
    return encr, prf, integ, ke


def _agrees(got: ConfProposal, want: tuple[list[object], list[int], list[int], list[int]],
            proto: str) -> bool:  # fmt: skip
    encr, prf, integ, ke = want
    if list(got.encr) != encr or list(got.ke) != ke:
        return False
    if proto == "ike":
        return list(got.prf) == prf and (not integ or list(got.integ) == integ)
    return not integ or list(got.integ) == integ


def _cases() -> list[tuple[bool, str, str, bool, list[str]]]:
    """(pfs, proto, text, success, output lines) of algparse-01, IKEv2 only."""
    lines = corpus()["testing/pluto/algparse-01/west.console.txt"].splitlines()
    out = []
    for i, line in enumerate(lines):
        m = _CASE.match(line)
        if m is None:
            continue
        outs = []
        for nxt in lines[i + 1 :]:
            if nxt.startswith("algparse"):
                break
            if nxt.startswith("\t"):
                outs.append(nxt.strip())
        out.append((bool(m[1]), m[2], m[3], m[4] == "SUCCESS", outs))
    return out


def test_algparse_oracle() -> None:
    counts: Counter[str] = Counter()
    for pfs, proto, text, success, outs in _cases():
        # ESP without --pfs: algparse drops every KE (pluto's conns default to pfs=yes).
        # Typed transforms (;addke1=...) are read, not compared here: algparse prints them
        # in a form of its own.
        if "impair" in text or "=" in text or (proto == "esp" and not pfs):
            continue
        try:
            got = parse_libreswan(text, proto, 1)  # type: ignore[arg-type]
        except ValueError:
            assert not success, (proto, text, outs)
            counts["refused alike"] += 1
            continue
        assert success, (proto, text, outs)
        want = [_expected(o, proto) for o in outs]
        assert len(got) == len(want), (proto, text, outs)
        for g, w in zip(got, want, strict=True):
            assert _agrees(g, w, proto), (proto, text, outs, g)
        counts["same algorithms"] += 1
    assert counts["same algorithms"] > 150 and counts["refused alike"] > 80, counts


def test_every_libreswan_config_reads() -> None:
    files = corpus()
    consoles = "\n".join(t for p, t in files.items() if p.endswith("console.txt"))
    refused = set(re.findall(r"failed to add connection: (.*)", consoles))
    counts: Counter[str] = Counter()
    for path, text in sorted(files.items()):
        if not path.endswith(".conf") or detect(text) != "ipsec.conf":
            continue
        cfg = read_ipsec_conf(text, path, resolver=tree_resolver(files))
        counts["files"] += 1
        counts["conns"] += len(cfg.connections)
        for note in cfg.notes:
            if note.code != "config-unknown-algorithm":
                continue
            m = re.search(r"=(\S+): ", note.text)
            text_ = m[1] if m else ""
            # Refused by pluto in that test, or by algparse-01, or a group Libreswan does
            # not build (dh22-24, modp1024: "is not supported").
            known = any(text_ in r or r.endswith(f"'{text_}' is not recognized") for r in refused)
            assert (
                known
                or "not supported" in note.text
                or "not recognized" in note.text
                or ("more than one" in note.text or "key length" in note.text)
            ), note.text
            counts["refused"] += 1
    assert counts["files"] > 1500 and counts["conns"] > 4000, counts


def test_every_libreswan_secrets_file_reads() -> None:
    """The *.secrets of testing/: PSK lines (@id, %any, address selectors, quoted, 0s/0x) read,
    other key types skipped, never an exception."""
    from ikeview.config.ipsec_conf import add_secrets
    from ikeview.config.records import DeviceConfig

    files = corpus()
    psks = 0
    for path, text in files.items():
        if path.endswith(".secrets"):
            cfg = add_secrets(DeviceConfig(path, "ipsec.conf"), text, path,
                              resolver=tree_resolver(files))  # fmt: skip
            assert all(p.secret for p in cfg.psks), path
            psks += len(cfg.psks)
    assert psks > 500
