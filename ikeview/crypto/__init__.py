"""IKEv2 and ESP cryptography on bytes: transforms, prf+, DH, key derivation, AUTH, SK and ESP."""
