"""Cisco IOS / IOS XE IKEv2 Smart Defaults per release: the proposal, policy, transform set and
IPsec profile that apply when none is configured.

Every value names where it comes from (``Source``) and whether a Cisco document confirms it
(``cisco``) or only device output published by others does. What was checked (December 2026,
with the stored copies of public pages reachable from the machine this was written on):

- Cisco's own configuration guides (the "IKEv2 Smart Defaults" section of "Configuring Internet
  Key Exchange Version 2 and FlexVPN Site-to-Site", ``sec-cfg-ikev2-flex.html``, in the IOS 15M&T,
  15S and IOS XE books) are indexed there only by their title pages: their default values could
  NOT be read, so no value below is confirmed by them.
- Cisco Field Notice FN72510 ("IPsec weak cryptographic algorithms deprecated", defect
  CSCwc72588) IS readable: from IOS XE 17.11.1 the IKEv2 proposal keywords ``des``, ``3des``,
  ``md5`` and groups 1, 2, 5 (and 24 in a later revision), the transform-set keywords
  ``esp-des``, ``esp-3des``, ``esp-md5-hmac``, ``esp-gmac``, ``esp-null``, ``ah-md5-hmac`` and weak
  ``set pfs`` groups are refused unless explicitly allowed.
- The default values themselves come from ``show crypto ikev2 proposal|policy``, ``show crypto
  ipsec transform-set|profile`` and ``debug crypto ikev2`` output of real routers published in
  lab notes (third-party, cited per value): see ``SOURCES``.

Pick the release with ``--ios-release``; the default is the newest modelled.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikeview.config.proposals import ConfProposal


@dataclass(frozen=True, slots=True)
class Source:
    """A document a default value comes from."""

    title: str
    url: str
    cisco: bool
    """True when Cisco published it (a Cisco document), False for device output others posted."""


FN72510 = Source(
    "Cisco Field Notice FN72510: IPsec weak cryptographic algorithms deprecated in IOS XE "
    "17.11.1 (CSCwc72588)",
    "https://www.cisco.com/c/en/us/support/docs/field-notices/725/fn72510.html",
    True,
)
GUIDE_XE17 = Source(
    "FlexVPN and Internet Key Exchange Version 2 Configuration Guide, Cisco IOS XE 17.x, "
    "'Configuring Internet Key Exchange Version 2 and FlexVPN Site-to-Site', 'IKEv2 Smart "
    "Defaults' (not readable here: values not confirmed by it)",
    "https://www.cisco.com/c/en/us/td/docs/ios-xml/ios/sec_conn_ike2vpn/configuration/xe-17/"
    "sec-flex-vpn-xe-17-book/sec-cfg-ikev2-flex.html",
    True,
)
GUIDE_15 = Source(
    "FlexVPN and Internet Key Exchange Version 2 Configuration Guide, Cisco IOS Release 15M&T "
    "(and 15S), same chapter and section (not readable here: values not confirmed by it)",
    "https://www.cisco.com/c/en/us/td/docs/ios-xml/ios/sec_conn_ike2vpn/configuration/15-mt/"
    "sec-flex-vpn-15-mt-book/sec-cfg-ikev2-flex.html",
    True,
)
LAB_IOS15 = Source(
    "'show crypto ikev2 proposal' / 'show crypto ikev2 policy' on an IOS 15 router, published "
    "lab notes (IKEv2 FlexVPN site-to-site)",
    "public GitHub lab notes (stored-index file ids 36907478981, 36991402702, 37030381594)",
    False,
)
DEBUG_IOS = Source(
    "'debug crypto ikev2' of an IOS initiator using the default policy: 'Using the Default "
    "Policy for Proposal', 15 transforms AES-CBC x3, PRF SHA512..MD5, INTEG SHA512..MD596, "
    "groups 5 and 2, published lab notes",
    "public GitHub lab notes (stored-index file id 2380968919)",
    False,
)
LAB_XE17 = Source(
    "'show crypto ikev2 proposal|policy|profile', 'show crypto ipsec transform-set|profile' on "
    "a Cisco 8000v (IOS XE 17.x), published lab notes (LISP over SVTI)",
    "lab notes for https://github.com/arunkumaruniqpro/LISP (stored-index file id 36890752064)",
    False,
)


@dataclass(frozen=True, slots=True)
class SmartDefaults:
    """The defaults of one release."""

    release: str
    """Key used on the command line (``ios15``, ``iosxe16``, ``iosxe17``)."""
    title: str
    """Which releases it stands for."""
    proposal: ConfProposal
    """The ``default`` IKEv2 proposal."""
    transform_sets: tuple[ConfProposal, ...]
    """The default transform sets in priority order."""
    transform_mode: str = "transport"
    """The mode the default transform set negotiates (``will negotiate = { Transport, }``)."""
    ike_lifetime: int = 86400
    """IKEv2 profile ``lifetime`` default, seconds."""
    child_lifetime: int = 3600
    """IPsec SA lifetime default, seconds (and 4608000 kilobytes)."""
    dpd: str | None = None
    """IKEv2 profile DPD default: disabled."""
    sources: tuple[Source, ...] = ()
    """Where the values come from."""
    unconfirmed: str = ""
    """What no Cisco document here confirms, said plainly."""
    refuses_weak: bool = False
    """IOS XE 17.11.1+: the FN72510 algorithms are refused unless weak crypto is re-enabled."""

    @property
    def url(self) -> str:
        """The first source's address (kept for callers of the earlier record)."""
        return self.sources[0].url if self.sources else ""


_SHA1 = ConfProposal("esp", "transform-set default: esp-aes esp-sha-hmac", 0,
                     encr=((12, 128),), integ=(2,), esn=(0,))  # fmt: skip
# The default policy: match fvrf any, match address local any, proposal default (LAB_IOS15 and
# LAB_XE17 both print it so).
DEFAULT_POLICY_NAME = "default (Smart Default)"
_NOT_GUIDE = (
    "No value is confirmed by a Cisco configuration guide (their Smart Defaults pages could not "
    "be read here); they are as real routers print them in third-party lab notes."
)

RELEASES: dict[str, SmartDefaults] = {
    "ios15": SmartDefaults(
        "ios15",
        "IOS 15.x (and IOS XE before the Smart Defaults change)",
        ConfProposal(
            "ike",
            "crypto ikev2 proposal default (Smart Default, IOS 15.x)",
            0,
            encr=((12, 256), (12, 192), (12, 128)),
            integ=(14, 13, 12, 2, 1),
            prf=(7, 6, 5, 2, 1),
            ke=(5, 2),
        ),
        (_SHA1,),
        sources=(LAB_IOS15, DEBUG_IOS, GUIDE_15),
        unconfirmed=_NOT_GUIDE + " Earlier 15.x releases may have offered 3DES as well (not "
        "seen in any output found; not modelled).",
    ),
    "iosxe16": SmartDefaults(
        "iosxe16",
        "IOS XE 16.x and 17.x before 17.11.1",
        ConfProposal(
            "ike",
            "crypto ikev2 proposal default (Smart Default, IOS XE 16.x-17.10)",
            0,
            encr=((12, 256),),
            integ=(14, 13),
            prf=(7, 6),
            ke=(19, 14, 21, 5),
        ),
        (_SHA1,),
        sources=(LAB_XE17, GUIDE_XE17),
        unconfirmed=_NOT_GUIDE + " The release in which IOS XE changed its default proposal "
        "(16.x) is not confirmed.",
    ),
    "iosxe17": SmartDefaults(
        "iosxe17",
        "IOS XE 17.11.1 and later",
        ConfProposal(
            "ike",
            "crypto ikev2 proposal default (Smart Default, IOS XE 17.11+)",
            0,
            encr=((12, 256),),
            integ=(14, 13),
            prf=(7, 6),
            ke=(19, 14, 21),
        ),
        (_SHA1,),
        sources=(LAB_XE17, FN72510, GUIDE_XE17),
        refuses_weak=True,
        unconfirmed=_NOT_GUIDE + " Group 5 is left out because FN72510 refuses it from 17.11.1 "
        "unless weak algorithms are allowed explicitly; that the default proposal drops it "
        "rather than keeping it is inferred, not printed by a router here.",
    ),
}
"""The modelled releases, oldest first."""

WEAK_IKE: dict[str, frozenset[str]] = {
    "encryption": frozenset({"des", "3des"}),
    "integrity": frozenset({"md5"}),
    "group": frozenset({"1", "2", "5", "24"}),
}
"""IKEv2 proposal keywords FN72510 deprecates from IOS XE 17.11.1 (group 24 in its later
revision)."""
WEAK_ESP = frozenset({"esp-des", "esp-3des", "esp-md5-hmac", "esp-gmac", "esp-null", "ah-md5-hmac"})
"""Transform-set keywords FN72510 deprecates."""
WEAK_PFS = frozenset({1, 2, 5, 24})
"""``set pfs`` groups taken as deprecated: FN72510 lists ``set pfs`` too, but the copy read here
is cut before its groups; the IKEv2 proposal's groups are assumed (not confirmed)."""

IOS_GROUPS = frozenset({1, 2, 5, 14, 15, 16, 19, 20, 21, 24})
"""The DH groups IOS / IOS XE accepts in ``crypto ikev2 proposal`` ``group`` and ``set pfs
groupN``: MODP 768/1024/1536 (1, 2, 5), MODP 2048/3072/4096 (14-16), ECP 256/384/521 (19-21),
MODP 2048 with a 256-bit subgroup (24). Confirmed for 1, 2, 14, 15, 16, 19, 20, 21, 24 by the
IKEv2 proposal fields of the IOS XE YANG model (terraform/pulumi ``iosxe`` provider,
``crypto_ikev2_proposal`` ``group_*``); 5 by Cisco's group list quoted in batfish issue #7987.
Not in IOS: 17, 18 (MODP 6144/8192), 22, 23, 25, 26, 27-30 (brainpool), 31, 32 (Curve25519/448),
the ML-KEM groups."""

NEWEST = "iosxe17"
"""The default for ``--ios-release``."""


def smart_defaults(release: str | None) -> SmartDefaults:
    """The defaults of a release (the newest when None); KeyError for an unknown one."""
    return RELEASES[release or NEWEST]
