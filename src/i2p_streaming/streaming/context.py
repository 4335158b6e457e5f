"""What the connections of one manager share and write into (:class:`StreamContext`).

A :class:`~i2p_streaming.streaming.connection.Connection` never sees its manager: it is handed
the manager's context, signs with its keys, and writes its outputs into it (events, packets
that do not wait for a flush, the connections due a flush, timers, drop counters, streams
that ended). The manager drains the context after each input. Nothing here imports another
module of the core besides the records and the timer heap.
"""

from __future__ import annotations

from collections import OrderedDict, deque
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
        "_holders",
        "auto_consume",
        "buffer_budget",
        "buffered",
        "counters",
        "dirty",
        "epoch_offset",
        "events",
        "half_open",
        "half_open_by_peer",
        "keys",
        "out",
        "time_wait",
        "timers",
    )

    def __init__(
        self,
        keys: PrivateKeys,
        epoch_offset: float | None,
        auto_consume: bool,
        buffer_budget: int = 0,
    ) -> None:
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
        #: inbound streams whose SYN reply is not acked yet, oldest first (id -> peer hash)
        self.half_open: OrderedDict[int, bytes] = OrderedDict()
        self.half_open_by_peer: dict[bytes, int] = {}
        #: session budget of buffered inbound bytes (0: none) and the bytes held now
        self.buffer_budget = buffer_budget
        self.buffered = 0
        self._holders = 0  # streams holding buffered bytes
        #: streams in TIME-WAIT, oldest first (the manager bounds their number)
        self.time_wait: OrderedDict[int, _C] = OrderedDict()
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

    def half_open_added(self, stream_id: int, peer: bytes) -> None:
        """An inbound stream sent its SYN reply, not acked yet (half-open)."""
        self.half_open[stream_id] = peer
        self.half_open_by_peer[peer] = self.half_open_by_peer.get(peer, 0) + 1

    def half_open_done(self, stream_id: int) -> None:
        """An inbound stream got its SYN reply acked, or ended before (idempotent)."""
        peer = self.half_open.pop(stream_id, None)
        if peer is None:
            return
        n = self.half_open_by_peer.get(peer, 0) - 1
        if n > 0:
            self.half_open_by_peer[peer] = n
        else:
            self.half_open_by_peer.pop(peer, None)

    def half_open_victim(self, peer: bytes, per_peer: int, total: int) -> int | None:
        """The half-open stream to evict before a new one from ``peer``, or None: past the
        per-peer cap the peer's own oldest; past the total cap the oldest of the peer holding
        the most (a flood from one destination only evicts itself; from many, the oldest)."""
        by_peer = self.half_open_by_peer
        victim = peer if by_peer.get(peer, 0) >= per_peer else None
        if victim is None and len(self.half_open) >= total:
            top = max(by_peer.values())
            if top == 1:
                return next(iter(self.half_open))
            victim = next(h for h, n in by_peer.items() if n == top)
        if victim is None:
            return None
        return next(s for s, h in self.half_open.items() if h == victim)

    def buffer_changed(self, before: int, after: int) -> None:
        """A stream's buffered inbound bytes went from ``before`` to ``after``."""
        self.buffered += after - before
        if not before and after:
            self._holders += 1
        elif before and not after:
            self._holders -= 1

    def buffer_admits(self, size: int, held: int) -> bool:
        """May a stream holding ``held`` bytes buffer ``size`` more (session budget)?

        Under the budget: yes. Over it, only a stream below its fair share (budget divided
        by the streams holding data) may, and only into a reserve of an eighth of the
        budget: the biggest holders are choked first and the total never exceeds 9/8 of the
        budget. Nothing already buffered (acked) is ever dropped."""
        budget = self.buffer_budget
        total = self.buffered + size
        if budget <= 0 or total <= budget:
            return True
        share = budget // max(1, self._holders + (0 if held else 1))
        return total <= budget + budget // 8 and held + size <= share

    def ended(self, conn: _C) -> None:
        """``conn`` is DEAD: the manager forgets it at the end of the current input."""
        self._ended.append(conn)

    # ------------------------------------------------------------------ read by the manager
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
