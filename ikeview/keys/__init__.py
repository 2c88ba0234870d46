"""Key sources (ikeview TOML, Wireshark tables, strongSwan and libreswan logs) as plain records."""
