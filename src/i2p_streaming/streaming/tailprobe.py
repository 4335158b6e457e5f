"""The tail probe of one stream's send path, on a local router only.

i2pd 2.59 answers a prompt-ACK request (DELAY 0) only if it sent no ACK within the same
millisecond (``Stream::ProcessOptions``), and then holds the ACK of the packets that came in
that millisecond for its ack timer, min(RTT / 10, 200 ms) with its RTT at 1.5 s until it has
a sample. On a local router a whole burst arrives within a millisecond of the ACK that freed
it, so each burst waited for our 100 ms minimum RTO (a 1 MB reply took up to 12 s, against
0.1 s into i2pd 2.56). A duplicate makes it ACK at once.

So when nothing we sent was acked for max(2 x SRTT, :data:`TAIL_PROBE_MIN`) and that is
sooner than the RTO, the send path sends its newest unacked packet again (asking for a
prompt ACK), at most :data:`TAIL_PROBES` times between two acks of new data. Only while the
SRTT is below :data:`TAIL_PROBE_MAX_SRTT` (over real tunnels a Java peer holds its ACKs up
to 500 ms, and a probe there is a wasted resend) and while the stream is the only one to its
peer with packets in flight (behind other streams a late ACK is queueing, not a held ACK).
"""

from __future__ import annotations

from i2p_streaming.streaming.rto import RttEstimator

__all__ = ["TAIL_PROBES", "TAIL_PROBE_MAX_SRTT", "TAIL_PROBE_MIN", "TailProbe"]

#: Shortest probe timeout, seconds.
TAIL_PROBE_MIN = 0.01
#: No probe at or above this smoothed RTT, seconds.
TAIL_PROBE_MAX_SRTT = 0.02
#: Probes between two acks of new data.
TAIL_PROBES = 2


class TailProbe:
    """When the newest unacked packet of a stream goes again."""

    __slots__ = ("_count", "at")

    def __init__(self) -> None:
        #: the probe's deadline (None: none armed)
        self.at: float | None = None
        self._count = 0

    def on_new_ack(self) -> None:
        """New data was acked: the probes may start over."""
        self._count = 0

    def arm(self, now: float, rtt: RttEstimator, rto_deadline: float | None, alone: bool) -> None:
        """Set (or clear) the deadline after a send or an ack; ``alone``: the stream has
        packets in flight, is not choked and no other stream to the peer has any."""
        self.at = None
        srtt = rtt.srtt
        if not alone or self._count >= TAIL_PROBES or not rtt.samples:
            return
        if srtt >= TAIL_PROBE_MAX_SRTT or rto_deadline is None:
            return
        at = now + max(2.0 * srtt, TAIL_PROBE_MIN)
        if at < rto_deadline:
            self.at = at

    def due(self, now: float) -> bool:
        """True (once) when the deadline passed: the caller resends its newest packet."""
        if self.at is None or now < self.at - 1e-9:
            return False
        self.at = None
        self._count += 1
        return True
