"""Embedded loopback I2CP router with a network-impairment engine (for tests and demos).

- :class:`EmbeddedRouter`: a real I2CP server routing payloads between its own sessions.
- :class:`Impairments` / :class:`Burst`: what the network does (delay, jitter, loss, bursty
  loss, duplication, reordering, a rate cap with a bounded queue, corruption, blackhole).
- :class:`ImpairmentEngine`: the pure decision logic, usable on its own with a fake clock.
"""

from i2p_streaming.router.impairment import (
    Burst,
    Counters,
    Delivery,
    ImpairmentEngine,
    Impairments,
    corrupt_payload,
)
from i2p_streaming.router.server import EmbeddedRouter, RouterSession, RouterStats, SessionChange
from i2p_streaming.router.units import parse_duration, parse_probability, parse_rate, parse_size

__all__ = [
    "Burst",
    "Counters",
    "Delivery",
    "EmbeddedRouter",
    "ImpairmentEngine",
    "Impairments",
    "RouterSession",
    "RouterStats",
    "SessionChange",
    "corrupt_payload",
    "parse_duration",
    "parse_probability",
    "parse_rate",
    "parse_size",
]
