# The initiator authenticates with EAP-MD5 (identity alice) after an EAP-Identity round, the
# responder with a PSK; then pings and delete. EAP-MD5 yields no MSK, so the initiator's final
# AUTH is computed with SK_pi in place of a shared key (RFC 7296 2.16).
PLUGINS="$DEFAULT_PLUGINS md5 eap-identity eap-md5"
