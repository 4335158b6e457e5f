"""Pacing of a stream's new packets: a token bucket filled at a multiple of window / SRTT.

Without pacing, a window's packets leave as fast as acks free them, and an ack that frees
many at once (a delayed or cumulative ack, the end of a choke, a window that doubled in
slow start) sends them back to back into the first router's queue, which is shallow. The
bucket holds at most :data:`PACING_BURST` packets (or window / 8, if more) and fills at
:data:`GAIN` x window / SRTT packets per second: twice the rate a full window drains at, so
slow start (which doubles the window per RTT) and ack-clocked sending are never held back,
only bursts. (Measured with ``benchmarks/paths.py``, 300 ms RTT: at 3 % loss the steady
share is 0.79 with a gain of 1.25 above ``ssthresh``, 0.86 with 2; at 1 % 0.91 and 0.93:
after a hole is filled the freed window must go out fast.)

Pacing is off while the RTT is below :data:`PACING_MIN_RTT` (a local router: the queue
drains faster than we can fill it, and interactive ping-pong must not wait) and before the
first RTT sample. The send path asks :meth:`Pacer.admit` before each new packet;
:attr:`Pacer.release_at` is when a refused packet may go (a timer of the send path).
"""

from __future__ import annotations

__all__ = ["GAIN", "PACING_BURST", "PACING_MIN_RTT", "Pacer"]

#: Packets that may leave back to back (the bucket size, at least).
PACING_BURST = 10
#: The rate as a multiple of window / SRTT.
GAIN = 2.0
#: Below this smoothed RTT (seconds) nothing is paced.
PACING_MIN_RTT = 0.02


class Pacer:
    """The token bucket of one stream (in packets)."""

    __slots__ = ("_at", "_tokens", "release_at")

    def __init__(self) -> None:
        self._tokens = float(PACING_BURST)
        self._at = 0.0
        #: when the next refused packet may go (None: nothing refused)
        self.release_at: float | None = None

    def cancel(self) -> None:
        """Nothing waits for a release (the send path is about to ask again)."""
        self.release_at = None

    def admit(self, now: float, window: int, srtt: float) -> bool:
        """True if one more new packet may leave at ``now`` (it takes a token); False sets
        :attr:`release_at`."""
        if srtt < PACING_MIN_RTT:
            self.release_at = None
            return True
        rate = GAIN * window / srtt
        cap = max(float(PACING_BURST), window / 8.0)
        tokens = self._tokens + (now - self._at) * rate
        if tokens > cap:
            tokens = cap
        self._at = now
        if tokens >= 1.0 - 1e-9:
            self._tokens = tokens - 1.0
            self.release_at = None
            return True
        self._tokens = tokens
        self.release_at = now + (1.0 - tokens) / rate
        return False
