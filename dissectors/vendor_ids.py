"""Known Vendor ID payload values (RFC 7296 3.12; RFC 2408 3.16) and their names.

Vendor IDs are opaque. Most are the MD5 of a vendor string (the string is noted beside each
value so a test can recompute it); some carry a version or feature bits after a fixed prefix
(Microsoft, Cisco Unity, RFC 3706 DPD, Check Point); Cisco IKEv2 sends readable ASCII such as
"FLEXVPN-SUPPORTED"; FreeS/WAN, Openswan and libreswan send "OE" plus 10 bytes in 0x40-0x7f.
The values are public facts (as used by Wireshark, libreswan and strongSwan); names are ours.
"""

from __future__ import annotations

# (value as hex, name, md5-of string or None). A value matches when the Vendor ID starts
# with it; the longest match wins, so versioned IDs (prefix + version bytes) are named too.
KNOWN: tuple[tuple[str, str, str | None], ...] = (
    ("882fe56d6fd20dbc2251613b2ebe5beb", "strongSwan", "strongSwan"),
    ("4a131c81070358455c5728f20e95452f", "RFC 3947 NAT-T", "RFC 3947"),
    ("4df37928e9fc4fd1b3262170d515c662", "draft-ietf-ipsec-nat-t-ike", None),
    (
        "4485152d18b6bbcd0be8a8469579ddcc",
        "draft-ietf-ipsec-nat-t-ike-00",
        "draft-ietf-ipsec-nat-t-ike-00",
    ),
    ("16f6ca16e4a4066d83821a0f0aeaa862", "draft-ietf-ipsec-nat-t-ike-01", None),
    ("cd60464335df21f87cfdb2fc68b6a448", "draft-ietf-ipsec-nat-t-ike-02", None),
    (
        "90cb80913ebb696e086381b5ec427b1f",
        "draft-ietf-ipsec-nat-t-ike-02\\n",
        "draft-ietf-ipsec-nat-t-ike-02\n",
    ),
    (
        "7d9419a65310ca6f2c179d9215529d56",
        "draft-ietf-ipsec-nat-t-ike-03",
        "draft-ietf-ipsec-nat-t-ike-03",
    ),
    ("9909b64eed937c6573de52ace952fa6b", "draft-ietf-ipsec-nat-t-ike-04", None),
    ("80d0bb3def54565ee84645d4c85ce3ee", "draft-ietf-ipsec-nat-t-ike-05", None),
    ("4d1e0e136deafa34c4f3ea9f02ec7285", "draft-ietf-ipsec-nat-t-ike-06", None),
    ("439b59f8ba676c4c7737ae22eab8f582", "draft-ietf-ipsec-nat-t-ike-07", None),
    ("8f8d83826d246b6fc7a8a6a428c11de8", "draft-ietf-ipsec-nat-t-ike-08", None),
    ("42ea5b6f898d9773a575df26e7dd19e1", "draft-ietf-ipsec-nat-t-ike-09", None),
    ("27bab5dc01ea0760ea4e3190ac27c0d0", "draft-stenberg-ipsec-nat-traversal-01", None),
    ("6105c422e76847e43f9684801292aecd", "draft-stenberg-ipsec-nat-traversal-02", None),
    ("09002689dfd6b712", "XAUTH", None),
    ("afcad71368a1f1c96b8696fc7757", "RFC 3706 DPD (Dead Peer Detection)", None),
    (
        "4048b7d56ebce88525e7de7f00d6c2d3",
        "Microsoft L2TP/IPsec VPN Client (FRAGMENTATION)",
        "FRAGMENTATION",
    ),
    ("4048b7d56ebce88525e7de7f00d6c2d380000000", "Cisco IKE Fragmentation", None),
    ("1e2b516905991c7d7c96fcbfb587e461", "Microsoft MS NT5 ISAKMPOAKLEY", "MS NT5 ISAKMPOAKLEY"),
    ("26244d38eddb61b3172a36e3d0cfb819", "Microsoft Vid-Initial-Contact", "Vid-Initial-Contact"),
    (
        "fb1de3cdf341b7ea16b7e5be0855f120",
        "Microsoft MS-Negotiation Discovery Capable",
        "MS-Negotiation Discovery Capable",
    ),
    ("e3a5966a76379fe707228231e5ce8652", "Microsoft IKE CGA version 1", "IKE CGA version 1"),
    ("214ca4faffa7f32d6748e5303395ae83", "Microsoft MS-MamieExists", "MS-MamieExists"),
    ("12f5f28c457168a9702d9fe274cc", "Cisco Unity", None),
    ("1f07f70eaa6514d3b0fa96542a500100", "Cisco VPN Concentrator", None),
    ("f4ed19e0c114eb516faaac0ee37daf2807b4381f", "Check Point", None),
    ("f14b94b7bff1fef02773b8c49fedeed2", "Shrew Soft", None),
    ("7003cbc1097dbe9c2600ba6983bc8b35", "KAME/racoon", None),
    ("20a3622c1cea7ce37bee3ca484425276", "IPsec-Tools", None),
    ("299ee8289f40a8973bc78687e2e7226b532c3b76", "Juniper NetScreen-01", None),
    ("3a15e1f3cf2a63582e3ac82d1c64cbe3b6d779e7", "Juniper NetScreen-02", None),
    ("47d2b126bfcd83489760e2cf8c5d4d5a03497c15", "Juniper NetScreen-03", None),
    ("4a4340b543e02b84c88a8b96a8af9ebe77d9accc", "Juniper NetScreen-04", None),
    ("64405f46f03b7660a23be116a1975058e69e8387", "Juniper NetScreen-05", None),
    ("699369228741c6d4ca094c93e242c9de19e7b7c6", "Juniper NetScreen-06", None),
    ("8c0dc6cf62a0ef1b5c6eabd1b67ba69866adf16a", "Juniper NetScreen-07", None),
    ("92d27a9ecb31d99246986d3453d0c3d57a222a61", "Juniper NetScreen-08", None),
    ("9b096d9ac3275a7d6fe8b91c583111b09efed1a0", "Juniper NetScreen-09", None),
    ("bf03746108d746c904f1f3547de24f78479fed12", "Juniper NetScreen-10", None),
    ("c2e80500f4cc5fbf5daaeed3bb59abaeee56c652", "Juniper NetScreen-11", None),
    ("c8660a62b03b1b6130bf781608d32a6a8d0fb89f", "Juniper NetScreen-12", None),
    ("f885da40b1e7a9abd17655ec5bbec0f21f0ed52e", "Juniper NetScreen-13", None),
    ("2a2bcac19b8e91b426107807e02e7249569d6fd3", "Juniper NetScreen-14", None),
    ("166f932d55eb64d8e4df4fd37e2313f0d0fd8451", "Juniper NetScreen-15", None),
    ("a35bfd05ca1ac0b3d2f24e9e82bfcbff9c9e52b5", "Juniper NetScreen-16", None),
    ("625027749d5ab97f5616c1602765cf480a3b7d0b", "ZyXEL ZyWALL", None),
    ("8404adf9cda05760b2ca292e4bff537b", "Sidewinder", None),
    ("404bf439522ca3f6", "SonicWall", None),
    ("da8e937880010000", "WatchGuard Firebox", None),
    ("101fb0b35c5a4f4c08b919f1cb9777b0", "NCP client", None),
    ("4865617274426561745f4e6f74696679", "Heartbeat Notify", None),  # ASCII "HeartBeat_Notify"
    ("ca3e2b854ba8030017dc1023a4fde2041f9f7463", "Aruba Networks Remote AP", None),
    ("3c8e70bdf9c7d74add53e4100915dc2e4bb51274", "Aruba Networks Controller", None),
    ("88f0e3149b3fa48b05aa7f685f0b766be186ccb8", "Aruba Networks VIA Client", None),
)

# The 4 octets after the MS NT5 ISAKMPOAKLEY MD5 are a Windows version (Wireshark's table).
MS_NT5_VERSIONS: dict[int, str] = {
    2: "Windows 2000",
    3: "Windows XP SP1",
    4: "Windows 2003 / Windows XP SP2",
    5: "Windows Vista",
}

_MS_NT5 = bytes.fromhex("1e2b516905991c7d7c96fcbfb587e461")
_TABLE = sorted(((bytes.fromhex(h), name) for h, name, _ in KNOWN), key=lambda t: -len(t[0]))
_FSWAN_LEN = 12  # "OE" + 10 hash bytes forced into 0x40-0x7f


def _printable(data: bytes) -> str | None:
    """Cisco IKEv2 (and others) send readable strings such as "FLEXVPN-SUPPORTED"."""
    if len(data) >= 4 and all(0x20 <= b < 0x7F for b in data):
        return data.decode("ascii")
    return None


def vendor_name(data: bytes) -> str | None:
    """Name of a Vendor ID value, or None when unknown. Never raises."""
    if data.startswith(_MS_NT5) and len(data) == len(_MS_NT5) + 4:
        version = int.from_bytes(data[len(_MS_NT5) :], "big")
        return f"Microsoft {MS_NT5_VERSIONS.get(version, f'MS NT5 ISAKMPOAKLEY v{version}')}"
    for prefix, name in _TABLE:
        if data.startswith(prefix):
            return name
    if (
        len(data) == _FSWAN_LEN
        and data.startswith(b"OE")
        and all(0x40 <= b < 0x80 for b in data[2:])
    ):
        return "libreswan/Openswan/FreeS/WAN"
    text = _printable(data)
    if text is not None:
        if text.startswith(("CISCO", "FLEXVPN")):
            return f"Cisco {text}"
        return text
    return None
