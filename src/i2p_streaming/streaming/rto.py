"""Round-trip time estimation and retransmission timeout (RFC 6298 with Karn's rule, B.4).

RTO = SRTT + max(4 * RTTVAR, G), where the floor ``G`` = max(:data:`MIN_FLOOR`,
SRTT x :data:`FLOOR_RATIO`) covers what RTTVAR cannot see on a steady path: the peer may
hold an ack for up to SRTT/4 (our receiver without a DELAY request; Java RTT/8 with DELAY 0)
and tunnel delay varies by a few per cent of the RTT (jitter that RTTVAR decays away between
changes). SRTT/2 covers both with margin, so a jitter-free path (RTTVAR -> 0) no longer
times out 0.5 % above the RTT. The timer backs off by doubling; the back-off is cleared as
soon as new data is acknowledged (RFC 6298 section 5.7, Linux), even by a retransmitted
packet that gives no RTT sample under Karn's rule.
"""

from __future__ import annotations

__all__ = ["FLOOR_RATIO", "MIN_FLOOR", "RttEstimator"]

#: The RTO is at least SRTT x (1 + FLOOR_RATIO): peer ack delay (<= SRTT/4) + jitter.
FLOOR_RATIO = 0.5
#: The absolute part of the floor, seconds (timer granularity and a local router's jitter).
MIN_FLOOR = 0.05


class RttEstimator:
    """SRTT/RTTVAR/RTO in seconds.

    Before the first sample the RTO is ``initial_rto``. The first sample R sets SRTT=R,
    RTTVAR=R/2; later samples use alpha=1/8, beta=1/4. The base RTO is
    SRTT + max(4*RTTVAR, G) (module docstring), clamped to [min_rto, max_rto];
    :meth:`on_timeout` doubles the back-off (capped), :meth:`on_new_ack` clears it. Callers
    apply Karn's rule by passing only samples of packets that were sent once.
    """

    __slots__ = ("_base", "max_rto", "min_rto", "rto", "rttvar", "samples", "srtt")

    MAX_SRTT = 60.0

    def __init__(self, initial_rto: float = 9.0, min_rto: float = 0.1, max_rto: float = 45.0):
        self.min_rto = min_rto
        self.max_rto = max_rto
        self._base = min(max(initial_rto, min_rto), max_rto)
        self.rto = self._base
        self.srtt = 0.0
        self.rttvar = 0.0
        self.samples = 0

    def _recompute(self) -> None:
        srtt = self.srtt
        floor = srtt * FLOOR_RATIO
        if floor < MIN_FLOOR:
            floor = MIN_FLOOR
        var = 4.0 * self.rttvar
        rto = srtt + (var if var > floor else floor)
        self._base = self.min_rto if rto < self.min_rto else min(rto, self.max_rto)
        self.rto = self._base

    def update(self, sample: float) -> None:
        """Feed one RTT sample (seconds) and recompute the RTO (clears any back-off)."""
        if sample < 0.0:
            sample = 0.0
        if self.samples == 0:
            self.srtt = sample
            self.rttvar = sample / 2.0
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - sample)
            self.srtt = 0.875 * self.srtt + 0.125 * sample
        if self.srtt > self.MAX_SRTT:
            self.srtt = self.MAX_SRTT
        self.samples += 1
        self._recompute()

    def seed(self, srtt: float, rttvar: float) -> None:
        """Start from remembered values (:mod:`~i2p_streaming.streaming.tcb`), as if one
        sample had been taken."""
        self.srtt = srtt
        self.rttvar = rttvar
        self.samples = 1
        self._recompute()

    def on_timeout(self) -> None:
        """Back off: double the RTO, capped at ``max_rto``."""
        self.rto = min(self.rto * 2.0, self.max_rto)

    def on_new_ack(self) -> None:
        """New data was acknowledged: drop the back-off (RFC 6298 5.7), keep SRTT/RTTVAR."""
        self.rto = self._base

    @property
    def base(self) -> float:
        """The RTO without back-off."""
        return self._base

    @property
    def backed_off(self) -> bool:
        """True while a timeout's back-off is in force."""
        return self.rto > self._base

    @property
    def rtt(self) -> float | None:
        """Smoothed RTT, or None before the first sample."""
        return self.srtt if self.samples else None
