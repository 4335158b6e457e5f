"""Pluggable congestion control, counted in packets.

A controller exposes ``window`` (packets allowed in flight) and reacts to the four signals the
connection reports. :class:`TunnelController` (``i2p``) is the default: slow start to the
maximum window, no window cut for random losses, a bandwidth-estimate cut when the RTT or the
loss rate confirms congestion. :class:`WestwoodController` (``westwood``) is the earlier
default: Reno's growth and Java's bandwidth-estimate cut on loss (B.6), clamped to 64.
:class:`RenoController` (``reno``) halves on loss.

A connection builds its controller by name (``i2p.streaming.congestionControl``, the
``congestion_control`` field of :class:`~i2p_streaming.streaming.options.StreamOptions`) with
:func:`create_controller`; :data:`CONTROLLERS` is the registry of names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from i2p_streaming.streaming.congestion.reno import RenoController
from i2p_streaming.streaming.congestion.tunnel import TunnelController
from i2p_streaming.streaming.congestion.westwood import WestwoodController

__all__ = [
    "CONTROLLERS",
    "DEFAULT_CONTROLLER",
    "CongestionController",
    "RenoController",
    "TunnelController",
    "WestwoodController",
    "create_controller",
]


class CongestionController(Protocol):
    """What a connection needs from a congestion controller."""

    window: int

    def on_ack(self, acked: int, now: float) -> None:
        """``acked`` (>0) packets were newly acknowledged without a congestion signal."""

    def on_rtt_sample(self, rtt: float, now: float) -> None:
        """An RTT sample (seconds) from a packet sent once (Karn's rule)."""

    def on_delivered(self, acked: int, now: float) -> None:
        """``acked`` (>0) packets were newly acknowledged, congestion signal or not."""

    def on_loss(self, lost: int, now: float) -> None:
        """``lost`` (>0) packets were newly found lost by NACKs (each is resent once)."""

    def on_fast_retransmit(self, now: float, holes: int = 1) -> None:
        """A packet was NACKed enough times to be resent at once (loss); ``holes`` is how
        many sequence numbers the triggering ack NACKed (several suggest an overflow)."""

    def on_timeout(self, now: float) -> None:
        """The retransmission timer expired."""

    def on_spurious_timeout(self) -> None:
        """The latest timeout was spurious: the acks that followed were for the copies sent
        before it (RFC 4015's detection by ack timing); a controller may undo its cut."""

    def on_choke(self) -> None:
        """The peer asked us to stop sending (DELAY >= 60000)."""

    def set_max_window(self, max_window: int, streams: int = 1) -> None:
        """Change the ceiling of ``window`` (the per-peer aggregate of ``peers.py``, shared
        by ``streams`` busy streams: at least one packet each)."""


#: A controller factory: ``(initial_window, max_window) -> controller``.
ControllerFactory = Callable[[int, int], CongestionController]

#: The controllers ``i2p.streaming.congestionControl`` can name.
CONTROLLERS: dict[str, ControllerFactory] = {
    "i2p": TunnelController,
    "westwood": WestwoodController,
    "reno": RenoController,
}
DEFAULT_CONTROLLER = "i2p"


def create_controller(name: str, initial_window: int, max_window: int) -> CongestionController:
    """A new controller of the registered ``name``; ``KeyError`` for an unknown name (options
    validate names before a connection is built)."""
    return CONTROLLERS[name](initial_window, max_window)
