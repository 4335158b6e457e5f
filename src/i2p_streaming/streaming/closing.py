"""When our CLOSE may go (:class:`CloseGate`, owned by the send path, ``sending.py``).

Our CLOSE never rides on a data packet: it goes alone, once every packet before it has been
acknowledged and the send buffer is empty, and :func:`linger` after that. i2pd's SAM bridge
(2.56 and 2.59, ``SAMSocket::I2PReceive``) reads a stream whose CLOSE it has processed only
once more: whatever then still waits in the stream's receive queue beyond one 8 KiB chunk is
lost, and its SAM client gets no EOF either. A CLOSE on the last data packet, or right behind
unacknowledged data, reaches i2pd while its receive queue is full (observed: 9-45 KB of a
1 MB reply lost in 3 of 4 runs on i2pd 2.56). Acknowledged means i2pd holds the bytes; the
linger gives its SAM bridge time to hand them to the client. It costs a close one round trip
and the linger, never data.
"""

from __future__ import annotations

from collections.abc import Sized

from i2p_streaming.streaming.rto import RttEstimator

__all__ = ["CLOSE_LINGER_MAX", "CLOSE_LINGER_MIN", "CloseGate", "linger"]

#: The CLOSE follows the last acknowledgement by SRTT/4, within these bounds (seconds).
CLOSE_LINGER_MIN = 0.025
CLOSE_LINGER_MAX = 0.5


def linger(rtt: RttEstimator) -> float:
    """How long the CLOSE waits after everything before it was acknowledged."""
    srtt = rtt.rtt
    if srtt is None:
        return CLOSE_LINGER_MIN
    return min(max(srtt / 4.0, CLOSE_LINGER_MIN), CLOSE_LINGER_MAX)


class CloseGate:
    """The time our requested CLOSE may go; ``at`` is also a connection timer.

    The send path asks :meth:`ready` on every flush that finds its send buffer empty; the
    CLOSE may go once nothing is in flight and :func:`linger` has passed since the first
    flush that found nothing in flight any more. A CLOSE requested long after the last ACK
    (or with no data sent at all) goes at once.
    """

    __slots__ = ("_busy", "_idle_at", "_rtt", "at")

    def __init__(self, rtt: RttEstimator) -> None:
        self._rtt = rtt  # the stream's RTT estimate (read only)
        self._busy = False  # the last flush saw packets in flight
        self._idle_at = -1.0  # when a flush first found them all acked (-1: never busy)
        self.at: float | None = None  # when the CLOSE may go (None: not waiting)

    def ready(self, now: float, requested: bool, unacked: Sized) -> bool:
        """May the CLOSE go now (``requested``; the send buffer is empty; ``unacked``: the
        packets in flight)?"""
        if unacked:
            self._busy = True
            self.at = None
            return False
        if self._busy:
            self._busy = False
            self._idle_at = now
        if not requested:
            return False
        if self._idle_at < 0:
            return True
        at = self._idle_at + linger(self._rtt)
        if now < at:
            self.at = at
            return False
        self.at = None
        return True

    def due(self, now: float) -> bool:
        """True once the linger has passed (the connection should flush)."""
        return self.at is not None and now >= self.at
