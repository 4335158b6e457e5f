"""How far past the peer's in-order point the send path may run: :class:`SendSpan`.

A receiver holds a bounded number of packets out of order. Java's drops (and chokes on) a
packet more than about 130 past its highest in-order one (``recovery.JAVA_ACCEPT_AHEAD``);
ours holds 512. The span has three stages (``recovery.py``): ``PROBE_SEQ_SPAN`` until the
peer acks a packet more than a Java receiver would hold past a hole, then ``MAX_SEQ_SPAN``;
``SAFE_SEQ_SPAN`` once the peer choked us (it could not hold what we sent ahead). Always at
most 3 windows past the oldest unacked packet: a hole is acked 2 RTT after it left, 3 when
its resend is lost too.

**Counted from where the peer will be** (``StreamOptions.span_past_resends``, off by
default; otherwise the span is counted from the oldest unacked packet, and a hole holds the
sender until it is acked). The limit is counted from the in-order point the
peer will have when the new packet arrives, not from the oldest unacked packet. A hole whose
resend is on its way (sent, not yet acked) will be filled before a packet sent after that
resend arrives (tunnels deliver mostly in order). A hole counts while it is known or likely
to be missing then: queued for a resend, reported missing (NACKed) and not resent since, or
unacked for longer than the RTO. Against a Java receiver at a full window of 128 that is the
difference between standing behind every hole for about 2 RTT and going on while it is
repaired (steady share into the Java-rules model at 1 % loss 0.57-0.66 -> 0.87-0.88 of the
ceiling, at 3 % 0.45 -> 0.80-0.83; ``docs/benchmarks.md``).

**A resend the span relies on goes twice** (limited stages only). If that resend is lost,
what we sent behind it past the peer's limit (up to a window) is dropped, and Java chokes:
at 3 % loss that cost 11 % of all packets. Two copies make that p² rare; a second copy costs
one packet, the risk ``p x`` a window (what may follow it past the limit before its loss is
known), so the copy goes when that product reaches :data:`TWICE_AT` (``p``: this stream's
share of packets found lost). The price is that the
holes of a peer with a small receive buffer cost two resends, not one: retransmissions are
about twice the loss rate into Java, the loss rate into a peer that holds more.

Why it is off by default: real Java I2P (2.7.0, 2 MB transfers, one run each) gained at 300 ms
and 3 % loss (232 -> 314 KB/s) but resent 19 % of its packets at 600 ms and 3 %. Java counts
the bytes of in-order data its application has not read yet against the same buffer: when a
hole is filled, a window of data becomes readable at once, and what arrives right behind the
resend before the application has read it is dropped (``MessageInputStream.canAccept``); the
model reads instantly and does not show it.
"""

from __future__ import annotations

from collections.abc import Mapping

from i2p_streaming.streaming.records import SentPacket
from i2p_streaming.streaming.recovery import (
    JAVA_ACCEPT_AHEAD,
    MAX_SEQ_SPAN,
    PROBE_SEQ_SPAN,
    SAFE_SEQ_SPAN,
)

__all__ = ["PROBES", "PROBE_LEAD", "PROBE_NEAR", "TWICE_AT", "WINDOWS", "SendSpan"]

#: The span as a multiple of the window, at most (see the module docstring).
WINDOWS = 3
#: Send a hole's resend twice when loss rate x packets it exposes reaches this.
TWICE_AT = 0.5
#: While probing: new packets sent before a hole's resend reach this far past Java's limit,
#: at most PROBES times per stream.
PROBE_LEAD = 12
PROBES = 3
#: ... when the sender is at most this far short of Java's limit behind the hole.
PROBE_NEAR = 40


class SendSpan:
    """The span stage of one stream, its loss count, and the checks against them."""

    __slots__ = ("_lost", "_past", "_probes", "_sent", "hold_until", "limit")

    def __init__(self, past_resends: bool = False) -> None:
        self._past = past_resends  # StreamOptions.span_past_resends
        self.limit = PROBE_SEQ_SPAN  #: sequence numbers past the peer's in-order point
        self._lost = 0  # packets found lost (not counting second copies)
        self._sent = 0  # packets sent when the latest loss was found
        self._probes = 0  # resends held behind new packets to show what the peer holds
        #: the current hold of the resends ends then at the latest (a timer of the send path)
        self.hold_until: float | None = None

    def hold_resends(self, hole: int, next_seq: int, now: float, srtt: float) -> bool:
        """Hold the resends back (the oldest is ``hole``) while new packets go? While
        probing, until they reach past what Java holds behind the hole (at most SRTT / 4):
        they arrive while the hole is open, so the peer either acks them (it holds more:
        MAX_SEQ_SPAN) or drops them and chokes (Java: SAFE_SEQ_SPAN) within a round trip.
        Left to chance (the resend usually arrives first), the proof took up to 48 s at
        600 ms RTT and 1 % loss. At most PROBES times per stream, and only with the window
        near full (acks keep releasing new packets meanwhile)."""
        if self.limit != PROBE_SEQ_SPAN or self._probes >= PROBES:
            return False
        until = self.hold_until
        if next_seq >= hole + JAVA_ACCEPT_AHEAD + PROBE_LEAD or (
            until is not None and now >= until
        ):
            if until is not None:
                self._probes += 1
                self.hold_until = None
            return False
        if until is None:
            if next_seq < hole + JAVA_ACCEPT_AHEAD - PROBE_NEAR:
                return False
            self.hold_until = now + srtt / 4
        return True

    def on_ack(self, ack_through: int, hole: int, holes: int) -> None:
        """An ack reported ``holes`` missing packets, the first ``hole``: a peer that holds a
        packet that far past it holds more than Java (PROBE_SEQ_SPAN -> MAX_SEQ_SPAN)."""
        if self.limit == PROBE_SEQ_SPAN and ack_through - hole >= JAVA_ACCEPT_AHEAD + holes:
            self.limit = MAX_SEQ_SPAN

    def on_choke(self) -> None:
        """The peer choked us: it could not hold what we sent ahead."""
        self.limit = SAFE_SEQ_SPAN

    def on_lost(self, count: int, packets_sent: int) -> None:
        """``count`` packets were found lost after ``packets_sent`` packets."""
        self._lost += count
        self._sent = packets_sent

    def allows(
        self,
        next_seq: int,
        unacked: Mapping[int, SentPacket],
        window: int,
        resend: set[int],
        overdue: float,
    ) -> bool:
        """May packet ``next_seq`` go now? ``overdue``: a copy sent before this time and
        still unacked is likely lost (now - RTO)."""
        if not unacked:
            return True
        oldest = next(iter(unacked))
        hard = WINDOWS * window
        if hard > MAX_SEQ_SPAN:
            hard = MAX_SEQ_SPAN
        span = self.limit if self.limit < hard else hard
        if next_seq - oldest < span:
            return True
        if next_seq - oldest >= hard or self.limit != SAFE_SEQ_SPAN or not self._past:
            return False  # (while probing, the peer must show what it holds behind a hole)
        floor = next_seq - span  # a hole at or below this would be more than span behind
        for seq, e in unacked.items():
            if seq > floor:
                return True
            if seq in resend or (e.nacks and e.sends == 1) or e.last_sent < overdue:
                return False  # a hole the peer will still have when this packet arrives
        return True

    def twice(self, window: int) -> bool:
        """Should a resend go twice? (the module docstring; a window is what may follow it
        past the limit before its loss is known)"""
        if self.limit != SAFE_SEQ_SPAN or not self._lost or not self._past:
            return False
        return self._lost * window >= TWICE_AT * (self._sent + 1)
