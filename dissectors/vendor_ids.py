"""Known Vendor ID payload values (RFC 7296 3.12) and their names.

Vendor IDs are opaque; most are an MD5 of a vendor string, some carry a version after a fixed
prefix (Microsoft, Cisco Unity, Check Point), and Cisco IKEv2 sends readable ASCII. Values are
public facts gathered from vendor documents and packet-capture tools; names are ours.
"""

from __future__ import annotations

# Exact values (hex) -> name.
EXACT: dict[str, str] = {
    "882fe56d6fd20dbc2251613b2ebe5beb": "strongSwan",
    "4a131c81070358455c5728f20e95452f": "RFC 3947 NAT-T",
    "4485152d18b6bbcd0be8a8469579ddcc": "draft-ietf-ipsec-nat-t-ike-00",
    "16f6ca16e4a4066d83821a0f0aeaa862": "draft-ietf-ipsec-nat-t-ike-01",
    "cd60464335df21f87cfdb2fc68b6a448": "draft-ietf-ipsec-nat-t-ike-02",
    "90cb80913ebb696e086381b5ec427b1f": "draft-ietf-ipsec-nat-t-ike-02\\n",
    "7d9419a65310ca6f2c179d9215529d56": "draft-ietf-ipsec-nat-t-ike-03",
    "afcad71368a1f1c96b8696fc77570100": "RFC 3706 DPD (Dead Peer Detection)",
    "12f5f28c457168a9702d9fe274cc0100": "Cisco Unity",
    "09002689dfd6b712": "XAUTH",
    "26244d38eddb61b3172a36e3d0cfb819": "Microsoft Vid-Initial-Contact",
    "fb1de3cdf341b7ea16b7e5be0855f120": "MS-Negotiation Discovery Capable",
    "214ca4faffa7f32d6748e5303395ae83": "MS-MamieExists",
    "e3a5966a76379fe707228231e5ce8652": "IKE CGA Version 1",
    "4048b7d56ebce88525e7de7f00d6c2d380000000": "Cisco Fragmentation",
    "4048b7d56ebce88525e7de7f00d6c2d3": "Cisco Fragmentation",
    "4865617274426561745f4e6f74696679": "Heartbeat Notify",
    "8299031757a36082c6a621de00000000": "FortiGate",
    "f4ed19e0c114eb516faaac0ee37daf2807b4381f": "Check Point",
}

# Prefix (hex) -> name; the bytes after the prefix are a version or feature bits.
PREFIXES: tuple[tuple[str, str], ...] = (
    ("1e2b516905991c7d7c96fcbfb587e461", "Microsoft MS NT5 ISAKMPOAKLEY"),
    ("12f5f28c457168a9702d9fe274cc", "Cisco Unity"),
    ("afcad71368a1f1c96b8696fc7757", "RFC 3706 DPD (Dead Peer Detection)"),
    ("f4ed19e0c114eb516faaac0ee37daf28", "Check Point"),
    ("8299031757a36082c6a621de", "FortiGate"),
    ("4f45", "libreswan/Openswan"),  # "OE" + base64, libreswan's and Openswan's style
)

# MS NT5 ISAKMPOAKLEY: the 4 octets after the MD5 are a Windows version number.
MS_NT5_VERSIONS: dict[int, str] = {
    2: "Windows 2000",
    3: "Windows XP SP1",
    4: "Windows Server 2003 / XP SP2",
    5: "Windows Vista",
    6: "Windows Server 2008",
    7: "Windows 7",
    8: "Windows Server 2008 R2",
    9: "Windows 8 / Server 2012",
    10: "Windows 8.1 / Server 2012 R2",
}

_MS_NT5 = bytes.fromhex(PREFIXES[0][0])


def _printable(data: bytes) -> str | None:
    """Cisco IKEv2 (and others) send readable strings such as "FLEXVPN-SUPPORTED"."""
    if len(data) >= 4 and all(0x20 <= b < 0x7F for b in data):
        return data.decode("ascii")
    return None


def vendor_name(data: bytes) -> str | None:
    """Name of a Vendor ID value, or None when unknown."""
    hexed = data.hex()
    if hexed in EXACT:
        return EXACT[hexed]
    if data.startswith(_MS_NT5) and len(data) == 20:
        version = int.from_bytes(data[16:], "big")
        return f"Microsoft {MS_NT5_VERSIONS.get(version, f'MS NT5 ISAKMPOAKLEY v{version}')}"
    text = _printable(data)
    if text is not None:
        if text.startswith("CISCO") or text.startswith("FLEXVPN"):
            return f"Cisco {text}"
        if text.startswith("OE"):
            return "libreswan/Openswan"
        return text
    for prefix, name in PREFIXES:
        if hexed.startswith(prefix):
            return name
    return None
