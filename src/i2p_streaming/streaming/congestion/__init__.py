"""Pluggable congestion control, counted in packets.

A controller exposes ``window`` (packets allowed in flight) and reacts to the four signals the
connection reports. :class:`RenoController` is the default (Java-like, B.5-B.7).
"""

from __future__ import annotations

from typing import Protocol

from i2p_streaming.streaming.congestion.reno import RenoController

__all__ = ["CongestionController", "RenoController"]


class CongestionController(Protocol):
    """What a connection needs from a congestion controller."""

    window: int

    def on_ack(self, acked: int, now: float) -> None:
        """``acked`` (>0) packets were newly acknowledged without a congestion signal."""

    def on_fast_retransmit(self, now: float) -> None:
        """A packet was NACKed enough times to be resent at once (loss)."""

    def on_timeout(self, now: float) -> None:
        """The retransmission timer expired."""

    def on_choke(self) -> None:
        """The peer asked us to stop sending (DELAY >= 60000)."""
