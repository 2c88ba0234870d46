"""Sans-I/O dissectors: capture bytes in, immutable records out. No crypto, no UI, no core."""
