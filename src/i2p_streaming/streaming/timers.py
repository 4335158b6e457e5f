"""One timer heap per manager, with lazy deletion.

A :class:`Timer` is a handle its owner keeps (a connection, a ping, the manager's
housekeeping); :meth:`TimerHeap.schedule` moves its deadline earlier (never later: a later
deadline is found when the timer fires and the owner reschedules), :meth:`TimerHeap.cancel`
disarms it. Superseded heap entries stay until they surface or the heap is compacted, so
the heap stays bounded by a small multiple of the armed timers.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

__all__ = ["Timer", "TimerHeap"]


class Timer:
    """A deadline slot: ``callback(now)`` runs once ``at`` has passed (``at`` None: disarmed).

    Only :class:`TimerHeap` changes ``at``."""

    __slots__ = ("at", "callback")

    def __init__(self, callback: Callable[[float], None]) -> None:
        self.callback = callback
        self.at: float | None = None


class TimerHeap:
    """The deadlines of one manager: ``schedule``/``cancel`` in, ``pop_due``/``next_deadline``
    out."""

    __slots__ = ("_armed", "_heap", "_tie")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._tie = itertools.count()
        self._armed = 0

    def __len__(self) -> int:
        """Heap entries, superseded ones included (bounded by compaction)."""
        return len(self._heap)

    def schedule(self, timer: Timer, deadline: float) -> None:
        """Make sure ``timer`` fires at or before ``deadline``."""
        current = timer.at
        if current is None or deadline < current:
            if current is None:
                self._armed += 1
            timer.at = deadline
            heapq.heappush(self._heap, (deadline, next(self._tie), timer))
            if len(self._heap) > 4 * self._armed + 256:
                heap = [entry for entry in self._heap if entry[2].at == entry[0]]
                heapq.heapify(heap)
                self._heap = heap

    def cancel(self, timer: Timer) -> None:
        """Disarm ``timer`` (its heap entries become superseded)."""
        if timer.at is not None:
            timer.at = None
            self._armed -= 1

    def pop_due(self, now: float) -> list[Timer]:
        """Disarm and return every timer whose deadline is at or before ``now``."""
        heap = self._heap
        due: list[Timer] = []
        while heap and heap[0][0] <= now:
            deadline, _, timer = heapq.heappop(heap)
            if timer.at == deadline:  # else: a superseded entry
                timer.at = None
                self._armed -= 1
                due.append(timer)
        return due

    def next_deadline(self) -> float | None:
        """The earliest armed deadline, or None."""
        heap = self._heap
        while heap:
            deadline, _, timer = heap[0]
            if timer.at == deadline:
                return deadline
            heapq.heappop(heap)
        return None
