# Multiple authentication rounds (RFC 4739): the initiator announces MULTIPLE_AUTH_SUPPORTED,
# authenticates with a PSK (IDi initiator.lab.example, AUTH in the first IKE_AUTH request,
# with N(ANOTHER_AUTH_FOLLOWS)), the responder answers with its PSK AUTH; then a second
# round with a new IDi (alice@lab.example) and EAP-MD5 (identity alice), whose final AUTH is
# keyed with SK_pi (EAP-MD5 exports no MSK). Pings, delete.
TRIM_LOGS=1  # the logs keep what the lab uses (trim_log.py)
PLUGINS="$DEFAULT_PLUGINS md5 eap-identity eap-md5"
