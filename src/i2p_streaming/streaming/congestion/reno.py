"""TCP-like slow start / congestion avoidance counted in packets (reference B.5-B.7)."""

from __future__ import annotations

__all__ = ["RenoController"]


class RenoController:
    """Slow start up to ``ssthresh``, then one packet per window of acks; halve on loss,
    drop to one packet on timeout; always within [1, max_window]."""

    __slots__ = ("_acc", "max_window", "ssthresh", "window")

    def __init__(self, initial_window: int = 3, max_window: int = 128, ssthresh: int = 64):
        self.max_window = max(1, max_window)
        self.window = max(1, min(initial_window, self.max_window))
        self.ssthresh = max(2, min(ssthresh, self.max_window))
        self._acc = 0

    def on_ack(self, acked: int, now: float) -> None:
        window = self.window
        if window < self.ssthresh:
            window = min(window + acked, self.ssthresh)
        else:
            self._acc += acked
            if self._acc >= window:
                self._acc -= window
                window += 1
        self.window = min(window, self.max_window)

    def set_max_window(self, max_window: int, streams: int = 1) -> None:
        """The ceiling changed (a per-peer aggregate, ``peers.py``, of ``streams`` busy
        streams gained or lost one): an ``ssthresh`` at the old ceiling follows it, the
        window is clamped to it and is at least one packet per stream (what they send)."""
        top = max(1, max_window)
        if self.ssthresh >= self.max_window:
            self.ssthresh = max(2, top)
        self.max_window = top
        if self.ssthresh > top:
            self.ssthresh = max(2, top)
        self.window = max(min(self.window, top), min(streams, top))

    def on_rtt_sample(self, rtt: float, now: float) -> None:
        """Reno does not use RTT samples."""

    def on_delivered(self, acked: int, now: float) -> None:
        """Reno does not estimate bandwidth."""

    def on_loss(self, lost: int, now: float) -> None:
        """Reno reacts once per recovery (:meth:`on_fast_retransmit`), not per hole."""

    def on_fast_retransmit(self, now: float, holes: int = 1) -> None:
        self.ssthresh = max(2, self.window // 2)
        self.window = self.ssthresh
        self._acc = 0

    def on_timeout(self, now: float) -> None:
        self.ssthresh = max(2, self.window // 2)
        self.window = 1
        self._acc = 0

    def on_spurious_timeout(self) -> None:
        """Reno keeps its timeout cut (the comparison baseline)."""

    def on_choke(self) -> None:
        self.window = 1
        self._acc = 0
