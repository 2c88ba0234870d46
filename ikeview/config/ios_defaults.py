"""Cisco IOS / IOS XE IKEv2 Smart Defaults per release: the proposal, policy and transform set
that apply when none is configured.

Sources (Cisco documents; the values are the ``show crypto ikev2 proposal default`` /
``show crypto ipsec transform-set default`` output they print):

- ``ios15``: "FlexVPN and Internet Key Exchange Version 2 Configuration Guide, Cisco IOS Release
  15M&T", chapter "Configuring Internet Key Exchange Version 2 and FlexVPN Site-to-Site",
  section "IKEv2 Smart Defaults",
  https://www.cisco.com/c/en/us/td/docs/ios-xml/ios/sec_conn_ike2vpn/configuration/15-mt/sec-flex-vpn-15-mt-book/sec-cfg-ikev2-flex.html
  Default proposal: AES-CBC-256/192/128 and 3DES; SHA-512/384/256, SHA-1, MD5 (integrity and
  PRF); DH groups 5 and 2. Default transform sets: esp-aes esp-sha-hmac, esp-3des esp-sha-hmac.
- ``iosxe17``: "Security for VPNs with IPsec Configuration Guide, Cisco IOS XE 17.x" /
  "FlexVPN and Internet Key Exchange Version 2 Configuration Guide, Cisco IOS XE 17.x", same
  chapter and section,
  https://www.cisco.com/c/en/us/td/docs/ios-xml/ios/sec_conn_ike2vpn/configuration/xe-17/sec-flex-vpn-xe-17-book/sec-cfg-ikev2-flex.html
  Default proposal after the removal of weak algorithms: AES-CBC-256; SHA-512/384 (integrity and
  PRF); DH groups 19, 14, 21 (and 5 where the release still lists it: modelled without it,
  matching the 17.x guide's statement that groups 1, 2 and 5 were deprecated). Default transform
  set: esp-aes esp-sha-hmac (tunnel).

These pages could not be fetched from this machine when this was written; the values are as
recalled from them and stated in docs/config.md as such. Pick the release with
``--ios-release``; the default is the newest modelled.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikeview.config.proposals import ConfProposal


@dataclass(frozen=True, slots=True)
class SmartDefaults:
    """The defaults of one release."""

    release: str
    """Key used on the command line (``ios15``, ``iosxe17``)."""
    title: str
    """The Cisco document it comes from."""
    url: str
    """Its address."""
    proposal: ConfProposal
    """The ``default`` IKEv2 proposal."""
    transform_sets: tuple[ConfProposal, ...]
    """The default transform sets in priority order."""


_IOS15_URL = (
    "https://www.cisco.com/c/en/us/td/docs/ios-xml/ios/sec_conn_ike2vpn/configuration/15-mt/"
    "sec-flex-vpn-15-mt-book/sec-cfg-ikev2-flex.html"
)
_XE17_URL = (
    "https://www.cisco.com/c/en/us/td/docs/ios-xml/ios/sec_conn_ike2vpn/configuration/xe-17/"
    "sec-flex-vpn-xe-17-book/sec-cfg-ikev2-flex.html"
)

RELEASES: dict[str, SmartDefaults] = {
    "ios15": SmartDefaults(
        "ios15",
        "FlexVPN and Internet Key Exchange Version 2 Configuration Guide, Cisco IOS Release 15M&T",
        _IOS15_URL,
        ConfProposal(
            "ike",
            "crypto ikev2 proposal default (Smart Default, IOS 15.x)",
            0,
            encr=((12, 256), (12, 192), (12, 128), (3, None)),
            integ=(14, 13, 12, 2, 1),
            prf=(7, 6, 5, 2, 1),
            ke=(5, 2),
        ),
        (
            ConfProposal(
                "esp",
                "transform-set default: esp-aes esp-sha-hmac",
                0,
                encr=((12, 128),),
                integ=(2,),
                esn=(0,),
            ),
            ConfProposal(
                "esp",
                "transform-set default: esp-3des esp-sha-hmac",
                0,
                encr=((3, None),),
                integ=(2,),
                esn=(0,),
            ),
        ),
    ),
    "iosxe17": SmartDefaults(
        "iosxe17",
        "FlexVPN and Internet Key Exchange Version 2 Configuration Guide, Cisco IOS XE 17.x",
        _XE17_URL,
        ConfProposal(
            "ike",
            "crypto ikev2 proposal default (Smart Default, IOS XE 17.x)",
            0,
            encr=((12, 256),),
            integ=(14, 13),
            prf=(7, 6),
            ke=(19, 14, 21),
        ),
        (
            ConfProposal(
                "esp",
                "transform-set default: esp-aes esp-sha-hmac",
                0,
                encr=((12, 128),),
                integ=(2,),
                esn=(0,),
            ),
        ),
    ),
}
"""The modelled releases."""

NEWEST = "iosxe17"
"""The default for ``--ios-release``."""


def smart_defaults(release: str | None) -> SmartDefaults:
    """The defaults of a release (the newest when None); KeyError for an unknown one."""
    return RELEASES[release or NEWEST]
