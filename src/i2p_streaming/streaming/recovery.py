"""The send path's recovery constants and the results of its timer (``sending.py``).

Kept apart so that ``sending.py`` stays one job (what it sends and when) under the module
size limit; ``sending`` re-exports every name.
"""

from __future__ import annotations

__all__ = [
    "ACK_REQUEST_EVERY",
    "CLOSE_GIVE_UP_SENDS",
    "MAX_PERSIST_INTERVAL",
    "MAX_RESEND_BURST",
    "JAVA_ACCEPT_AHEAD",
    "MAX_SEQ_SPAN",
    "MAX_SYN_RTO",
    "PROBE_COPIES",
    "PROBE_SEQ_SPAN",
    "RTO_CLOSE_ABANDONED",
    "RTO_FLUSH",
    "RTO_GIVE_UP",
    "RTO_IDLE",
    "RTO_PROBES_UNANSWERED",
    "SAFE_SEQ_SPAN",
    "UNCHOKE_RESEND",
]

#: One data packet in window / ACK_REQUEST_EVERY asks for a prompt ACK (DELAY 0) besides
#: the last third of the window: a Java receiver holds the ack of other packets for 500 ms,
#: so a window freed by one bulk ack was acked about once per RTT (measured against the
#: Java-rules model, tests/support/javapeer.py: 0.6 s RTT, 1 % loss, goodput +20 %).
ACK_REQUEST_EVERY = 8
#: Most sequence numbers we run past the oldest unacked packet (Java 128, B.5, stops a
#: 128-packet window at every hole), once the peer has shown it holds that many (below), and
#: at most 3 windows: a hole is acked 2 RTT after it left, 3 when its resend is lost too (at
#: 240 the sender stood behind a hole 25-39 % of the time at 1.2 s RTT and 3 % loss; our
#: receiver holds 512 packets ahead).
MAX_SEQ_SPAN = 384
#: The span until then. A Java receiver drops (and chokes on) a packet more than
#: JAVA_ACCEPT_AHEAD past its highest in-order one once that many wait out of order: at 240
#: every hole at a full window overran it by ~100 packets, each resent. At the first hole of
#: a near-full window the resends wait until new packets are 12 past that limit
#: (``span.py``): a peer that acks them holds more and gets MAX_SEQ_SPAN; Java drops at most
#: 14 and chokes us (SAFE_SEQ_SPAN). (160 before the probe was forced: up to 30 dropped.)
PROBE_SEQ_SPAN = 144
JAVA_ACCEPT_AHEAD = 130
#: The span after the peer choked us once (Java accepts about 130 packets ahead).
SAFE_SEQ_SPAN = 128
#: Longest SYN / SYN-reply retransmission interval (s), unless the RTO itself is longer. A
#: SYN goes at 0, then RTO x 2^k apart up to this cap until ``connectTimeout`` after its first
#: send (``maxResends`` does not count it): with the 2 s initial RTO at 0, 2, 6, 10, ..., 58 s,
#: 16 tries in the 60 s connect timeout (Java: 0, 9, 27 s). Each try connects only if the SYN
#: and a reply both get through: at 50 % handshake loss 9 tries (cap 8 s) failed 0.4 % of
#: connects, 16 fail 0.005 % (docs/design.md). The first two intervals (2, 4 s) are those of
#: the 8 s cap, so a connect whose first RTT is under 10 s sends no extra SYN.
MAX_SYN_RTO = 4.0
MAX_RESEND_BURST = 16
#: Copies of the oldest packet per backed-off timeout, spaced evenly over the interval (so
#: each gets its own ack). Once a timeout went unanswered the path is lossy: one copy per
#: try fails with probability 1 - (1 - p)^2 (data or its ack lost: 0.51 at p = 30 %), and
#: ``maxResends`` failed tries in a row end the stream, too often over a long transfer;
#: three spaced copies make a try fail with about the cube of that (0.13). Timeouts,
#: back-off and the give-up count are unchanged (a copy is not a timeout).
PROBE_COPIES = 3
#: Java's rule: stop resending an empty CLOSE after this many sends once the peer closed
#: (its stream may be gone, e.g. i2pd deletes it at once); here max(3, maxResends // 2).
CLOSE_GIVE_UP_SENDS = 3
#: Longest interval between persist probes, seconds.
MAX_PERSIST_INTERVAL = 45.0
#: Packets resent at once when the peer unchokes.
UNCHOKE_RESEND = 16

#: What :meth:`SendPath.on_rto` did: nothing due / packets to resend (flush) / gave up on an
#: empty CLOSE the peer never acks (counted as acked) / ``maxResends`` timeouts in a row
#: without an ack of new data / ``maxResends`` persist probes without an answer.
RTO_IDLE = 0
RTO_FLUSH = 1
RTO_CLOSE_ABANDONED = 2
RTO_GIVE_UP = 3
RTO_PROBES_UNANSWERED = 4
