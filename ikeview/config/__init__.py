"""Device configurations in and out: Cisco IOS / IOS XE, strongSwan swanctl.conf, ipsec.conf.

Public API:

- ``load.load_configs(paths, ios_release=None) -> list[DeviceConfig]`` / ``load.read_config``:
  read files (kind detected from content); ``records.ConfigError`` names ``file:line`` and the fix.
- ``keys.config_keyring(configs) -> KeyRing``: the configs' PSKs as scoped key records (merge it
  first, so the configs' keys are the ones tried first).
- ``check.apply_configs(analysis, configs, side=None, keyring=None) -> Analysis``: fills
  ``config_checks`` on every IKE SA and child SA; ``check.config_findings(analysis)`` lists the
  findings.
- ``writers.write_configs(analysis, kind="ios"|"swanctl", sides=..., keyring=None,
  show_secrets=False) -> {side: text}``.
- ``render.config_check_lines`` / ``config_checks_json``; ``cards.ios_sa_card`` /
  ``swanctl_sa_lines``.

Layering (tests/test_architecture.py): reads the model and key records; never the crypto, the
CLI, the report/export views or the TUI. docs/config.md has the details and sources.
"""
