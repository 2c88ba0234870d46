"""ikeview: an IKEv2 and ESP capture analyzer that derives every key itself."""

__version__ = "0.1.0"
