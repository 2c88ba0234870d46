"""Correlation of dissected records into IKE SAs, exchanges and child SAs, and their decryption."""
