"""Packets that arrive before the SYN of their stream (:class:`EarlyPackets`, reference B.11).

A data packet with sendStreamId 0 for a stream the peer opened but whose SYN has not arrived
(tunnels reorder) is held for :data:`PENDING_TIMEOUT` seconds and replayed once the SYN
opens the stream. Bounded: at most :data:`MAX_PENDING_STREAMS` streams of at most
:data:`MAX_PENDING_PER_STREAM` packets each.
"""

from __future__ import annotations

__all__ = ["MAX_PENDING_PER_STREAM", "MAX_PENDING_STREAMS", "PENDING_TIMEOUT", "EarlyPackets"]

#: Early packets (sendStreamId 0, no SYN yet) are kept this long (B.11, i2pd's 10 s).
PENDING_TIMEOUT = 10.0
MAX_PENDING_STREAMS = 64
MAX_PENDING_PER_STREAM = 16

#: One held packet: (raw bytes, source port, destination port, arrival time).
Held = tuple[bytes, int, int, float]


class EarlyPackets:
    """Held packets keyed by the peer's stream id (the packets' receiveStreamId)."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: dict[int, list[Held]] = {}

    def __len__(self) -> int:
        """Streams with held packets."""
        return len(self._held)

    def hold(self, peer_id: int, raw: bytes, src: int, dst: int, now: float) -> bool:
        """Keep a packet; False when a bound is reached (the packet is not kept)."""
        held = self._held.get(peer_id)
        if held is None:
            if len(self._held) >= MAX_PENDING_STREAMS:
                return False
            held = self._held[peer_id] = []
        if len(held) >= MAX_PENDING_PER_STREAM:
            return False
        held.append((raw, src, dst, now))
        return True

    def take(self, peer_id: int) -> list[Held]:
        """Remove and return the packets held for ``peer_id`` (oldest first)."""
        return self._held.pop(peer_id, [])

    def expire(self, now: float) -> tuple[int, float | None]:
        """Drop packets held :data:`PENDING_TIMEOUT` or longer; return how many streams lost
        their last packet and when the next packet expires (None: nothing held)."""
        expired = 0
        earliest: float | None = None
        for peer_id in list(self._held):
            # same arithmetic as the deadline the caller schedules, so the entry due expires
            kept = [item for item in self._held[peer_id] if item[3] + PENDING_TIMEOUT > now]
            if kept:
                self._held[peer_id] = kept
                first = kept[0][3]
                earliest = first if earliest is None else min(earliest, first)
            else:
                del self._held[peer_id]
                expired += 1
        return expired, None if earliest is None else earliest + PENDING_TIMEOUT
