"""Round-trip time estimation and retransmission timeout (RFC 6298 with Karn's rule, B.4)."""

from __future__ import annotations

__all__ = ["RttEstimator"]


class RttEstimator:
    """SRTT/RTTVAR/RTO in seconds.

    Before the first sample the RTO is ``initial_rto``. The first sample R sets SRTT=R,
    RTTVAR=R/2; later samples use alpha=1/8, beta=1/4. RTO = SRTT + 4*RTTVAR, clamped to
    [min_rto, max_rto]; :meth:`on_timeout` doubles it (capped). Callers apply Karn's rule by
    passing only samples of packets that were sent once.
    """

    __slots__ = ("max_rto", "min_rto", "rto", "rttvar", "samples", "srtt")

    MAX_SRTT = 60.0

    def __init__(self, initial_rto: float = 9.0, min_rto: float = 0.1, max_rto: float = 45.0):
        self.min_rto = min_rto
        self.max_rto = max_rto
        self.rto = min(max(initial_rto, min_rto), max_rto)
        self.srtt = 0.0
        self.rttvar = 0.0
        self.samples = 0

    def update(self, sample: float) -> None:
        """Feed one RTT sample (seconds) and recompute the RTO."""
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
        rto = self.srtt + 4.0 * self.rttvar
        self.rto = self.min_rto if rto < self.min_rto else min(rto, self.max_rto)

    def seed(self, srtt: float, rttvar: float) -> None:
        """Start from remembered values (:mod:`~i2p_streaming.streaming.tcb`), as if one
        sample had been taken."""
        self.srtt = srtt
        self.rttvar = rttvar
        self.samples = 1
        self.rto = min(max(srtt + 4.0 * rttvar, self.min_rto), self.max_rto)

    def on_timeout(self) -> None:
        """Back off: double the RTO, capped at ``max_rto``."""
        self.rto = min(self.rto * 2.0, self.max_rto)

    @property
    def rtt(self) -> float | None:
        """Smoothed RTT, or None before the first sample."""
        return self.srtt if self.samples else None
