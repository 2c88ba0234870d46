# The initiator authenticates with EAP-MSCHAPv2 (identity bob) after an EAP-Identity round,
# the responder with a PSK; then pings and delete. MSCHAPv2 needs MD4 and DES: OpenSSL 3's
# legacy provider (the openssl plugin loads it: load_legacy = yes). The method yields an MSK,
# which keys both final AUTH payloads (RFC 7296 2.16); charon logs it as the AUTH 'secret'.
PLUGINS="$DEFAULT_PLUGINS md5 eap-identity eap-mschapv2"
CHARON_EXTRA="plugins {
    openssl {
      load_legacy = yes
    }
  }"
