"""Correlation: dissector records in, IKE SAs / exchanges / child SAs out. No I/O.

Rules (RFC 7296 unless noted):

1. An IKE SA is named by (SPIi, SPIr). The first IKE_SA_INIT request has SPIr zero, so a
   half-open SA is found by SPIi alone until a response gives it its SPIr (section 2.6).
   COOKIE and INVALID_KE_PAYLOAD answers keep SPIi: the repeated request belongs to the same SA
   and is a new *attempt* of the same exchange (sections 2.6, 1.3).
2. Each end keeps its own message ID space (section 2.2). A request's sender is given by its
   I flag; a response's requester is the other end. So an exchange is keyed by
   (message ID, requester), and both peers go through one code path.
3. strongSwan's ``is_retransmit``: same message ID and identical bytes is a retransmission;
   same ID with other bytes is not (it is a new attempt, or a peer bug), and is marked as such.
   SKF fragments (RFC 7383) of one message share the ID but differ: they are compared per
   fragment number.
4. A response carrying a notify of type < 16384 failed the exchange (section 3.10.1), except
   COOKIE / INVALID_KE_PAYLOAD in IKE_SA_INIT, which ask for a retry.
5. A CREATE_CHILD_SA whose SA payload has protocol IKE and an 8-byte SPI rekeys the IKE SA: the
   new SA's SPIi is the exchange initiator's SPI, its SPIr the exchange responder's
   (section 1.3.2). Otherwise it makes a child SA, rekeying the one N(REKEY_SA) names.
6. A Delete payload (section 3.11) of protocol IKE ends the IKE SA; of ESP/AH, the child SAs
   whose SPIs it lists (the sender's inbound SPIs).
7. ESP packets are counted per (SPI, destination), never stored (RFC 4303 replay window).

Decryption goes through the ``Decryptor`` of seam.py only: setups are registered when the
exchange that makes them completes, so the first message of a new SA is opened after its keys
(capture order is the protocol's order).

Where things live:

==============  ==================================================================
correlator.py   ``Correlator``: routes records, counts ESP, takes snapshots
messages.py     IKE messages: finds/opens SAs, classifies and files copies
exchanges.py    the exchange shapes: ``SHAPES`` maps a type to its two handlers
auth.py         the IKE_AUTH shape: identities and AUTH checks
children.py     child SAs and IKE SA rekeys made by IKE_AUTH / CREATE_CHILD_SA
state.py        the IKE SA state machine: ``TRANSITIONS`` and ``advance()``
esp.py          ESP counters and the RFC 4303 anti-replay window
builders.py     mutable records, each freezing into its model record
context.py      what the handlers share: SAs, indexes, problems, totals, decryptor
payloads.py     reading payload lists (first of a kind, notifies, algorithms)
null.py         ``NullDecryptor``, the decryptor without keys
merge.py        ESP counters of capture ranges folded together (``--jobs``)
==============  ==================================================================
"""

from ikeview.pipeline.correlate.correlator import Correlator
from ikeview.pipeline.correlate.null import NullDecryptor

__all__ = ["Correlator", "NullDecryptor"]
