# Initiator 192.0.2.10 behind a masquerading NAT (192.0.2.1 / 192.0.2.129), responder
# 192.0.2.130. capture.pcap is taken on the responder's side of the NAT.
TOPOLOGY=nat
