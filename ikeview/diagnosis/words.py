"""How the text views word a diagnosis's fields; the JSON keeps the values themselves. Apart from
``records`` so that a view of a capture of ESP alone, which never creates the diagnosis records,
does not import them for these words."""

from __future__ import annotations

BASIS_WORDS: dict[str, str] = {"decrypted": "read from the payloads", "inferred": "inferred"}
"""A finding's or verdict's basis (``records.Basis``) as the report and the TUI show it. The
JSON's ``decrypted`` covers payloads sent in clear too (IKE_SA_INIT's proposals, NAT-D, an
INVALID_KE_PAYLOAD), which no key opened: a capture read without keys must not say
"decrypted" of them."""
