"""Bounded, expiring sets of recently seen keys (:class:`RecentKeys`).

The manager keeps two: our stream ids that ended (not reused while the peer may still send to
them) and the (peer stream id, peer hash) of SYNs it accepted (a replayed SYN is dropped).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

__all__ = ["MAX_RECENT", "RecentKeys"]

#: Entries a :class:`RecentKeys` holds at most; the oldest go first.
MAX_RECENT = 8192

K = TypeVar("K")


class RecentKeys(Generic[K]):
    """Keys remembered until a deadline, at most ``limit`` of them (oldest dropped first)."""

    __slots__ = ("_entries", "limit")

    def __init__(self, limit: int = MAX_RECENT) -> None:
        self._entries: OrderedDict[K, float] = OrderedDict()
        self.limit = limit

    def add(self, key: K, until: float, now: float) -> None:
        """Remember ``key`` until ``until``; prune expired and surplus entries."""
        entries = self._entries
        entries[key] = until
        entries.move_to_end(key)
        while entries and (len(entries) > self.limit or next(iter(entries.values())) <= now):
            entries.popitem(last=False)

    def holds(self, key: K, now: float) -> bool:
        """Whether ``key`` is remembered and not expired at ``now``."""
        until = self._entries.get(key)
        return until is not None and until > now

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
