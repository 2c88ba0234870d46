"""Key sources (ikeview TOML, Wireshark tables, strongSwan and libreswan logs) as plain records.

Public API:

- ``loader.load_keys(paths, mode="all") -> KeyRing``: read files of any supported format
  (detected from content) and merge them; errors are ``errors.KeysFileError`` (file:line: ...).
- ``model``: ``SourceRef``, ``Psk``, ``DhSecret``, ``IkeSaKeys``, ``EspKeys``, ``KeyRing``.
- ``describe.describe(keyring) -> list[str]``: one secret-free line per record.
- ``wireshark.write_ikev2_table(rows)`` / ``write_esp_sa(rows)`` / ``save_wireshark_config(dir,
  keyring)``: Wireshark 4.0 UAT files from records.

One module per format: ``toml_keys``, ``wireshark``, ``tcpdump``, ``strongswan_log``,
``libreswan_log``; ``algorithms`` maps algorithm names to IANA ids. No crypto happens here.
"""
