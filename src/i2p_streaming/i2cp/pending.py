"""Requests of the sans-I/O I2CP session that await an answer: sends that want a
MessageStatus (by nonce) and destination lookups (by request id), with their deadlines.

No clock: deadlines are ``now + timeout`` on the caller's clock; :meth:`Pending.deadline`
says when :meth:`Pending.expire` must run.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping

from i2p_streaming.i2cp import events as ev

__all__ = ["Pending"]

_SEND = 0
_LOOKUP = 1


class Pending:
    """Pending status waits and lookups (the caller bounds their number)."""

    def __init__(self, *, first_id: int = 1) -> None:
        # ids are taken modulo 2**32, skipping 0 and ids in use (``first_id``: for tests)
        self._nonces = itertools.count(first_id)
        self._request_ids = itertools.count(first_id)
        self.sends: dict[int, float] = {}  # nonce -> deadline
        self.lookups: dict[int, tuple[str, float, bytes | None]] = {}  # id -> (name, dl, hash)
        self._timers: list[tuple[float, int, int]] = []  # (deadline, kind, id)

    @staticmethod
    def _new_id(counter: itertools.count[int], used: Mapping[int, object]) -> int:
        while True:
            ident = next(counter) & 0xFFFFFFFF
            if ident and ident not in used:
                return ident

    def new_nonce(self) -> int:
        """A fresh non-zero nonce not in use (not yet registered)."""
        return self._new_id(self._nonces, self.sends)

    def add_send(self, nonce: int, deadline: float) -> None:
        """Wait for the status of ``nonce`` until ``deadline``."""
        self.sends[nonce] = deadline
        heapq.heappush(self._timers, (deadline, _SEND, nonce))

    def add_lookup(self, name: str, key: bytes | None, deadline: float) -> int:
        """Register a lookup of ``name`` (``key``: the hash for b32 names); its request id."""
        rid = self._new_id(self._request_ids, self.lookups)
        self.lookups[rid] = (name, deadline, key)
        heapq.heappush(self._timers, (deadline, _LOOKUP, rid))
        return rid

    def lookups_for(self, key: bytes | None) -> list[int]:
        """Ids of the lookups of hash ``key``."""
        return [rid for rid, (_, _, k) in self.lookups.items() if k == key]

    def deadline(self) -> float | None:
        """The earliest deadline of a request still pending, or None."""
        timers = self._timers
        while timers:
            deadline, kind, ident = timers[0]
            table: Mapping[int, object] = self.sends if kind == _SEND else self.lookups
            if ident in table:
                return deadline
            heapq.heappop(timers)
        return None

    def expire(self, now: float) -> list[ev.Event]:
        """Drop the requests whose deadline is <= ``now``; the failure events to queue."""
        out: list[ev.Event] = []
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, kind, ident = heapq.heappop(timers)
            if kind == _SEND:
                if self.sends.pop(ident, None) is not None:
                    reason = "no MessageStatus from the router before the timeout"
                    out.append(ev.SendStatus(ident, ev.SendOutcome.FAILED, None, reason))
            else:
                entry = self.lookups.pop(ident, None)
                if entry is not None:
                    reason = "no reply from the router in time"
                    out.append(ev.LookupResult(ident, entry[0], None, reason))
        return out

    def clear(self) -> None:
        """Forget everything (the session ended)."""
        self.sends.clear()
        self.lookups.clear()
        self._timers.clear()
