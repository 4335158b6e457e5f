"""Payloads held for a client without fast receive (``i2cp.fastReceive=false``).

The router announces each payload with MessageStatus(status 0, size), sends it on
ReceiveMessageBegin and forgets it on ReceiveMessageEnd (Java's router keeps it until End).
Bounded by bytes: the owner counts :attr:`HeldPayloads.held_bytes` in its queue, so the router
drops new payloads for a client that never asks for them.
"""

from __future__ import annotations

__all__ = ["HeldPayloads"]


class HeldPayloads:
    """Message id -> payload, for one client connection."""

    def __init__(self) -> None:
        self._by_id: dict[int, bytes] = {}
        self.held_bytes = 0

    def __len__(self) -> int:
        return len(self._by_id)

    def hold(self, message_id: int, blob: bytes) -> None:
        """Keep ``blob`` until :meth:`release` (a reused id replaces the old payload)."""
        self.release(message_id)
        self._by_id[message_id] = blob
        self.held_bytes += len(blob)

    def get(self, message_id: int) -> bytes | None:
        """The payload held under ``message_id`` (it stays held)."""
        return self._by_id.get(message_id)

    def release(self, message_id: int) -> bool:
        """Forget the payload; False when there was none."""
        blob = self._by_id.pop(message_id, None)
        if blob is None:
            return False
        self.held_bytes -= len(blob)
        return True
