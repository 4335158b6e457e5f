"""The default controller, ``i2p``: loss-tolerant growth for I2P tunnels, cut only on
confirmed congestion.

I2P tunnels lose 1-5 % of messages at random and rarely queue. A controller that reads
every loss as congestion (Reno) or clamps its window after loss (Java's Westwood with
``ssthresh <= 64``) sits at a fraction of the window the path carries. This one:

* starts with ``ssthresh`` = the maximum window, and leaves slow start early only on a
  queueing signal: the last :data:`~.westwood._RECENT_RTTS` RTT samples all above the
  minimum RTT x 1.25 (a HyStart-like delay increase) once the window is at least
  :data:`HYSTART_MIN`;
* counts lost packets (each NACK-detected hole) against delivered ones over about the last
  two windows (at least :data:`LOSS_SAMPLE` packets); a loss cuts the window only when it
  is *confirmed* as congestion: the RTT sits above its minimum (queueing, a bottleneck's
  tail drop) or the loss rate is above :data:`LOSS_TOLERANCE` (clustered drops). The cut
  is Westwood's: to the estimated bandwidth-delay product (largest recent delivery rate
  x minimum RTT x 9/8), never deeper than half the window, with no cap below the maximum
  window;
* grows one packet per window of acks above ``ssthresh`` (Reno), drops to 1 on a timeout;
  a choke (the peer's buffer is full) does not cut it.

Parallel streams to one peer share one instance (``peers.py``); there is no pacing.
"""

from __future__ import annotations

from i2p_streaming.streaming.congestion.westwood import WestwoodController

__all__ = ["HYSTART_MIN", "LOSS_SAMPLE", "LOSS_TOLERANCE", "TunnelController"]

#: Loss rate (lost / sent over ~2 windows) above which losses count as congestion.
LOSS_TOLERANCE = 0.10
#: The loss rate is taken over at least this many packets: in the first round trips 3 holes
#: (or 2 resends that reordering made unneeded) among 20 packets are no evidence of a queue.
LOSS_SAMPLE = 64
#: Smallest window at which a delay increase ends slow start.
HYSTART_MIN = 16


class TunnelController(WestwoodController):
    """Registered as ``i2p`` (the default); see the module docstring."""

    __slots__ = ("_delivered", "_lost", "_streams", "_undo")

    def __init__(self, initial_window: int = 3, max_window: int = 128, ssthresh: int = 0):
        top = max(1, max_window)
        super().__init__(initial_window, top, ssthresh if ssthresh > 0 else top)
        self.max_ssthresh = top
        self._forgiven = True  # the slow-start exception of Westwood is not needed
        self._lost = 0.0
        self._delivered = 0.0
        self._streams = 1  # busy streams sharing this window (peers.py)
        self._undo: tuple[int, int] | None = None  # (window, ssthresh) before a timeout

    def set_max_window(self, max_window: int, streams: int = 1) -> None:
        super().set_max_window(max_window, streams)
        self.max_ssthresh = self.max_window
        self._streams = streams

    @property
    def loss_rate(self) -> float:
        """Lost / (lost + delivered) over about the last two windows (and at least
        :data:`LOSS_SAMPLE` packets)."""
        total = self._lost + self._delivered
        return self._lost / max(total, LOSS_SAMPLE)

    def on_rtt_sample(self, rtt: float, now: float) -> None:
        super().on_rtt_sample(rtt, now)
        window = self.window
        if (
            window < self.ssthresh
            and window >= HYSTART_MIN
            and window >= 2 * self._streams  # n streams' first packets leave as one burst
            and len(self._recent) == self._recent.maxlen
            and self._queueing()
        ):
            self.ssthresh = window  # delay rise: the queue is building, leave slow start

    def on_delivered(self, acked: int, now: float) -> None:
        super().on_delivered(acked, now)
        self._delivered += acked
        if self._delivered > 2.0 * max(self.window, 8):
            self._delivered *= 0.5
            self._lost *= 0.5

    def on_loss(self, lost: int, now: float) -> None:
        self._lost += lost

    def on_fast_retransmit(self, now: float, holes: int = 1) -> None:
        if not self._queueing() and self.loss_rate <= LOSS_TOLERANCE:
            return  # a random tunnel loss: the hole is resent, the window stays
        self._undo = None  # a confirmed congestion cut: a spurious timeout is not undone
        target = self._target()
        self.ssthresh = target
        self.window = min(self.window, target)
        self._acc = 0

    def on_timeout(self, now: float) -> None:
        if self._undo is None:  # (timeouts in a row: the state before the first)
            self._undo = (self.window, self.ssthresh)
        super().on_timeout(now)

    def on_spurious_timeout(self) -> None:
        """Undo the latest timeout's cut (RFC 4015): a timeout of a stream whose ack was
        late, or lost (a Java receiver sends one ack per delay, and a tunnel loses 1-5 % of
        them), cut a full window to 1 and ``ssthresh`` to a bandwidth estimate that early in
        a stream is a few packets; growth from there is one packet per RTT."""
        if self._undo is not None:
            window, ssthresh = self._undo
            self.window = max(self.window, window)
            self.ssthresh = max(self.ssthresh, ssthresh)
            self._undo = None

    def on_choke(self) -> None:
        """A choke is the receiver's flow control, not congestion: the send path stops (and
        lowers its sequence span) while it lasts; the window stays for when it ends."""
