"""Loss-tolerant congestion control: Reno growth, Westwood-style cuts (reference B.5-B.7).

Java's streaming does not halve its window on a loss: it sets ``ssthresh`` to its estimate of
the path's bandwidth-delay product (``bandwidth estimate x minimum RTT``, clamped to
[2, 64]) and cuts the window down to it (B.6, B.7). On an I2P tunnel most losses are not
congestion, and the estimate tells the two apart: when the window is no larger than what the
path delivers per minimum RTT, a loss costs little; when packets queue (RTT above the
minimum), the estimate is smaller than the window and the cut is real.

Three refinements over a plain Westwood+ filter (each measured on a 300 ms / 1 % loss echo,
``tests/streaming/test_throughput.py``):

* The estimate is the **largest** delivery rate of the last few round trips, not a smoothed
  average. An average lags a window that is still growing and is pulled down by app-limited
  and loss-recovery periods, so every random loss cut a window that fitted the path
  (~20 % per loss, which held the window near 20 packets at 1 % loss).
* The product is scaled by 9/8: the peer may hold an ack for up to RTT/8 (B.3) while the
  minimum RTT sample usually had none, so ``bw x minRTT`` alone reads that delay as a queue.
* The cut is never deeper than Reno's (``window // 2``), and the first loss of the initial
  slow start is forgiven (window cut, slow start kept) when it is a single hole and recent
  RTTs show no queue: the estimate is still immature then, and leaving slow start at a
  handful of packets costs tens of round trips of linear growth. Later losses, or any loss
  with several holes or a rising RTT, end slow start as usual.
"""

from __future__ import annotations

from collections import deque

from i2p_streaming.streaming.congestion.reno import RenoController

__all__ = ["WestwoodController"]

#: Rate samples (about one per round trip) the max filter remembers.
_SAMPLES = 8
#: Shortest interval a bandwidth sample may span, in seconds.
_MIN_INTERVAL = 0.05
#: The peer may hold an ack for up to RTT/8 (Java, B.3): a window that large adds no queue.
_ACK_DELAY_GAIN = 1.125
#: RTT samples whose minimum tells the current path delay (without jitter and ack delays).
_RECENT_RTTS = 4
#: Recent RTTs above min RTT x this: packets are queueing, a loss is congestion.
_QUEUE_RATIO = 1.25


class WestwoodController(RenoController):
    """Slow start and congestion avoidance as :class:`RenoController`; on loss,
    ``ssthresh = clamp(bandwidth x min RTT x 9/8, window // 2, max_ssthresh)`` and
    ``window <= ssthresh`` (``window = 1`` on timeout). Without an estimate it halves like
    Reno. See the module docstring for the slow-start exception."""

    __slots__ = ("_count", "_forgiven", "_min_rtt", "_rates", "_recent", "_since", "max_ssthresh")

    def __init__(self, initial_window: int = 3, max_window: int = 128, ssthresh: int = 64):
        super().__init__(initial_window, max_window, ssthresh)
        self.max_ssthresh = self.ssthresh
        self._rates: deque[float] = deque(maxlen=_SAMPLES)  # packets per second
        self._recent: deque[float] = deque(maxlen=_RECENT_RTTS)  # latest RTT samples
        self._min_rtt = 0.0
        self._forgiven = False
        self._since = -1.0  # start of the current sampling interval
        self._count = 0  # packets acked in it

    @property
    def bandwidth(self) -> float:
        """Largest recent delivery rate in packets per second (0 before the first sample)."""
        return max(self._rates, default=0.0)

    def on_rtt_sample(self, rtt: float, now: float) -> None:
        self._recent.append(rtt)
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
            self._rates.append(self._count / span)
            self._since = now
            self._count = 0

    def _target(self) -> int:
        bw = self.bandwidth
        if bw == 0.0 or self._min_rtt == 0.0:
            return max(2, self.window // 2)
        bdp = int(bw * self._min_rtt * _ACK_DELAY_GAIN)
        return max(2, self.window // 2, min(bdp, self.max_ssthresh))

    def _queueing(self) -> bool:
        """True when recent RTTs sit clearly above the minimum (or nothing is known)."""
        if not self._recent or self._min_rtt == 0.0:
            return True
        return min(self._recent) > self._min_rtt * _QUEUE_RATIO

    def on_fast_retransmit(self, now: float, holes: int = 1) -> None:
        target = self._target()
        if (
            self.window < self.ssthresh
            and not self._forgiven
            and holes <= 1
            and not self._queueing()
        ):
            self._forgiven = True  # one random loss in the initial slow start
        else:
            self.ssthresh = target
        self.window = min(self.window, target)
        self._acc = 0

    def on_spurious_timeout(self) -> None:
        """Java's controller keeps its timeout cut (the comparison baseline)."""

    def on_timeout(self, now: float) -> None:
        self._forgiven = True
        self.ssthresh = self._target()
        self.window = 1
        self._acc = 0
