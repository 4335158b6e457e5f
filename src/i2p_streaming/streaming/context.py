"""What the connections of one manager share and write into (:class:`StreamContext`).

A :class:`~i2p_streaming.streaming.connection.Connection` never sees its manager: it is handed
the manager's context, signs with its keys, and writes its outputs into it (events, packets
that do not wait for a flush, the connections due a flush, timers, drop counters, streams
that ended). The manager drains the context after each input. Nothing here imports another
module of the core besides the records and the timer heap.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming.events import Event
from i2p_streaming.streaming.records import OutgoingPacket
from i2p_streaming.streaming.timers import TimerHeap

__all__ = ["MAX_QUEUED_PACKETS", "StreamContext"]

#: Bound of the packets queued outside a flush (RESETs, pongs, pings); more are counted in
#: ``out_queue_full`` and dropped.
MAX_QUEUED_PACKETS = 1024

_C = TypeVar("_C")


class StreamContext(Generic[_C]):
    """The per-manager sink of its connections (``_C``: the connection type).

    ``epoch_offset`` (seconds to add to ``now`` to get Unix time, None: unknown) enables the
    expiry check of offline signatures. ``auto_consume``: delivered bytes count as read at once.
    """

    __slots__ = (
        "_ended",
        "_half_open",
        "auto_consume",
        "counters",
        "dirty",
        "epoch_offset",
        "events",
        "keys",
        "out",
        "timers",
    )

    def __init__(self, keys: PrivateKeys, epoch_offset: float | None, auto_consume: bool) -> None:
        self.keys = keys
        self.epoch_offset = epoch_offset
        self.auto_consume = auto_consume
        self.events: deque[Event] = deque()
        self.out: list[OutgoingPacket] = []
        #: connections with something to send at the next flush (an ordered set)
        self.dirty: dict[_C, None] = {}
        self.timers = TimerHeap()
        #: things peers did that were dropped, and internal errors (name -> count)
        self.counters: dict[str, int] = {}
        self._half_open: dict[int, int] = {}  # port -> inbound streams with SYN reply unacked
        self._ended: list[_C] = []

    # ------------------------------------------------------------------ written by connections
    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def push_event(self, event: Event) -> None:
        self.events.append(event)

    def mark_dirty(self, conn: _C) -> None:
        self.dirty[conn] = None

    def queue_out(self, packet: OutgoingPacket) -> None:
        """Queue a packet outside any flush (bounded by :data:`MAX_QUEUED_PACKETS`)."""
        if len(self.out) < MAX_QUEUED_PACKETS:
            self.out.append(packet)
        else:
            self.count("out_queue_full")

    def set_epoch_offset(self, value: float | None) -> None:
        self.epoch_offset = value

    def epoch_now(self, now: float) -> float | None:
        return None if self.epoch_offset is None else now + self.epoch_offset

    def half_open_added(self, port: int) -> None:
        """An inbound stream on ``port`` sent its SYN reply, not acked yet (backlog)."""
        self._half_open[port] = self._half_open.get(port, 0) + 1

    def half_open_done(self, port: int) -> None:
        """An inbound stream on ``port`` got its SYN reply acked, or ended before."""
        n = self._half_open.get(port, 0) - 1
        if n > 0:
            self._half_open[port] = n
        else:
            self._half_open.pop(port, None)

    def ended(self, conn: _C) -> None:
        """``conn`` is DEAD: the manager forgets it at the end of the current input."""
        self._ended.append(conn)

    # ------------------------------------------------------------------ read by the manager
    def half_open(self, port: int) -> int:
        return self._half_open.get(port, 0)

    @property
    def has_ended(self) -> bool:
        return bool(self._ended)

    def take_ended(self) -> list[_C]:
        ended = self._ended
        self._ended = []
        return ended

    def take_out(self) -> list[OutgoingPacket]:
        out = self.out
        self.out = []
        return out

    def take_dirty(self) -> dict[_C, None]:
        dirty = self.dirty
        self.dirty = {}
        return dirty
