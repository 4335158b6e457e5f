"""A bounded replay cache for Datagram2: signatures seen recently, by count and by age."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

__all__ = ["DEFAULT_REPLAY_CAPACITY", "DEFAULT_REPLAY_WINDOW", "ReplayCache"]

#: Datagrams remembered at most (the oldest is forgotten first).
DEFAULT_REPLAY_CAPACITY = 8192
#: Seconds a datagram is remembered.
DEFAULT_REPLAY_WINDOW = 600.0


class ReplayCache:
    """Remembers up to ``capacity`` signatures for ``window`` seconds each.

    The key is the SHA-256 of the signature (deterministic signatures such as Ed25519 repeat
    exactly for a repeated datagram; a signature covers the receiving destination, the
    options and the payload). A datagram older than the window, or pushed out by
    ``capacity`` newer ones, is no longer recognised: both bounds are what memory allows.
    """

    def __init__(
        self, capacity: int = DEFAULT_REPLAY_CAPACITY, window: float = DEFAULT_REPLAY_WINDOW
    ) -> None:
        if capacity < 1:
            raise ValueError(f"replay capacity must be at least 1, not {capacity}")
        if not window > 0:
            raise ValueError(f"replay window must be above 0, not {window}")
        self.capacity = capacity
        self.window = window
        self._seen: OrderedDict[bytes, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def check_and_add(self, signature: bytes, now: float) -> bool:
        """True (and remembered from ``now``) the first time ``signature`` is seen within the
        window; False for a replay (its first sighting is kept, the window is not renewed)."""
        self._expire(now)
        key = hashlib.sha256(signature).digest()
        if key in self._seen:
            return False
        if len(self._seen) >= self.capacity:
            self._seen.popitem(last=False)
        self._seen[key] = now
        return True

    def _expire(self, now: float) -> None:
        seen = self._seen
        limit = now - self.window
        while seen:
            key, at = next(iter(seen.items()))
            if at > limit:
                return
            del seen[key]
