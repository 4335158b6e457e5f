"""Loss-tolerant congestion control: Reno growth, Westwood+-style cuts (reference B.5-B.7).

Java's streaming does not halve its window on a loss: it sets ``ssthresh`` to its estimate of
the path's bandwidth-delay product (``bandwidth estimate x minimum RTT``, clamped to
[2, 64]) and cuts the window down to it (B.6, B.7). On an I2P tunnel most losses are not
congestion, and the estimate tells the two apart: when the window is no larger than what the
path delivers per minimum RTT, a loss costs little; when packets queue (RTT above the
minimum), the estimate is smaller than the window and the cut is real.
"""

from __future__ import annotations

from i2p_streaming.streaming.congestion.reno import RenoController

__all__ = ["WestwoodController"]

#: Weight of the newest bandwidth sample in the smoothed estimate (Westwood+ filter).
_GAIN = 0.125
#: Shortest interval a bandwidth sample may span, in seconds.
_MIN_INTERVAL = 0.05


class WestwoodController(RenoController):
    """Slow start and congestion avoidance as :class:`RenoController`; on loss,
    ``ssthresh = clamp(bandwidth x min RTT, 2, max_ssthresh)`` and ``window <= ssthresh``
    (``window = 1`` on timeout). Without an estimate yet it halves like Reno."""

    __slots__ = ("_bw", "_count", "_min_rtt", "_since", "max_ssthresh")

    def __init__(self, initial_window: int = 3, max_window: int = 128, ssthresh: int = 64):
        super().__init__(initial_window, max_window, ssthresh)
        self.max_ssthresh = self.ssthresh
        self._bw = 0.0  # packets per second, smoothed
        self._min_rtt = 0.0
        self._since = -1.0  # start of the current sampling interval
        self._count = 0  # packets acked in it

    @property
    def bandwidth(self) -> float:
        """Smoothed delivery rate in packets per second (0 before the first sample)."""
        return self._bw

    def on_rtt_sample(self, rtt: float, now: float) -> None:
        if rtt > 0.0 and (self._min_rtt == 0.0 or rtt < self._min_rtt):
            self._min_rtt = rtt

    def on_delivered(self, acked: int, now: float) -> None:
        if self._since < 0.0:
            self._since = now
            self._count = 0
            return
        self._count += acked
        span = now - self._since
        if span >= max(self._min_rtt, _MIN_INTERVAL):
            sample = self._count / span
            self._bw = sample if self._bw == 0.0 else self._bw + _GAIN * (sample - self._bw)
            self._since = now
            self._count = 0

    def _target(self) -> int:
        if self._bw == 0.0 or self._min_rtt == 0.0:
            return max(2, self.window // 2)
        bdp = int(self._bw * self._min_rtt)
        return max(2, min(bdp, self.max_ssthresh))

    def on_fast_retransmit(self, now: float) -> None:
        self.ssthresh = self._target()
        self.window = min(self.window, self.ssthresh)
        self._acc = 0

    def on_timeout(self, now: float) -> None:
        self.ssthresh = self._target()
        self.window = 1
        self._acc = 0
