"""A seeded fake lossy link and fake clock moving streaming packets between managers.

No real time passes: :meth:`FakeLink.run` jumps the simulated clock to the next delivery or
timer. Impairments (all seeded): loss, duplication, reordering (extra delay), jitter, a fixed
one-way delay, a rate cap (``rate`` bytes/s: one unbounded FIFO per direction shared by every
stream, so parallel streams queue behind each other) and a blackhole (drop everything,
optionally from a given time).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from i2p_streaming.data import Destination
from i2p_streaming.streaming import Event, OutgoingPacket, StreamManager

EventHandler = Callable[["FakeLink", StreamManager, Event], None]


@dataclass
class Impairment:
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    delay: float = 0.05
    jitter: float = 0.0
    blackhole: bool = False
    blackhole_from: float | None = None
    rate: float = 0.0  # bytes per second per direction; 0: no cap
    #: the extra delay of a reordered packet; None: random, up to 4 x (delay + jitter + 10 ms)
    reorder_delay: float | None = None


@dataclass
class Delivery:
    sender: StreamManager
    receiver: StreamManager
    packet: OutgoingPacket
    at: float


@dataclass
class FakeLink:
    """Moves payloads between managers by destination; records every event per manager."""

    managers: list[StreamManager]
    impairment: Impairment = field(default_factory=Impairment)
    seed: int = 0
    now: float = 0.0
    on_event: EventHandler | None = None
    #: drop filter for targeted tests: return True to drop a packet
    drop: Callable[[OutgoingPacket, StreamManager], bool] | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.by_dest: dict[Destination, StreamManager] = {m.destination: m for m in self.managers}
        self.queue: list[tuple[float, int, Delivery]] = []
        self.tie = itertools.count()
        self.events: dict[int, list[Event]] = {id(m): [] for m in self.managers}
        self.sent: list[Delivery] = []
        self.record = False
        self.delivered = 0
        self.dropped = 0
        self._busy_until: dict[tuple[int, int], float] = {}  # per direction, with ``rate``

    # ------------------------------------------------------------------ plumbing
    def events_of(self, manager: StreamManager) -> list[Event]:
        return self.events[id(manager)]

    def sent_by(self, manager: StreamManager) -> list[Delivery]:
        """The recorded packets ``manager`` sent (only while ``record`` is True)."""
        return [d for d in self.sent if d.sender is manager]

    def pump(self) -> None:
        """Drain events (calling ``on_event``) and outputs of every manager until quiet."""
        busy = True
        while busy:
            busy = False
            for m in self.managers:
                while (ev := m.next_event()) is not None:
                    busy = True
                    self.events[id(m)].append(ev)
                    if self.on_event is not None:
                        self.on_event(self, m, ev)
                for pkt in m.payloads_to_send(self.now):
                    busy = True
                    self._transmit(m, pkt)

    def _transmit(self, sender: StreamManager, pkt: OutgoingPacket) -> None:
        imp = self.impairment
        receiver = self.by_dest.get(pkt.destination)
        d = Delivery(sender, receiver, pkt, self.now) if receiver is not None else None
        if self.record and d is not None:
            self.sent.append(d)
        if receiver is None or d is None:
            self.dropped += 1
            return
        if imp.blackhole or (imp.blackhole_from is not None and self.now >= imp.blackhole_from):
            self.dropped += 1
            return
        if self.drop is not None and self.drop(pkt, sender):
            self.dropped += 1
            return
        rng = self.rng
        if imp.loss and rng.random() < imp.loss:
            self.dropped += 1
            return
        copies = 2 if imp.duplicate and rng.random() < imp.duplicate else 1
        start = self.now
        if imp.rate:
            way = (id(sender), id(receiver))
            start = max(start, self._busy_until.get(way, 0.0)) + len(pkt.data) / imp.rate
            self._busy_until[way] = start
        for _ in range(copies):
            at = start + imp.delay
            if imp.jitter:
                at += rng.random() * imp.jitter
            if imp.reorder and rng.random() < imp.reorder:
                late = imp.reorder_delay
                at += rng.random() * 4 * (imp.delay + imp.jitter + 0.01) if late is None else late
            heapq.heappush(self.queue, (at, next(self.tie), Delivery(sender, receiver, pkt, at)))

    def next_time(self) -> float | None:
        times = [t for m in self.managers if (t := m.get_timer()) is not None]
        if self.queue:
            times.append(self.queue[0][0])
        return min(times) if times else None

    def step(self) -> bool:
        """Advance to the next delivery or timer and process it; False when nothing is left."""
        self.pump()
        t = self.next_time()
        if t is None:
            return False
        if t > self.now:
            self.now = t
        while self.queue and self.queue[0][0] <= self.now:
            _, _, d = heapq.heappop(self.queue)
            src, dst = d.packet.src_port, d.packet.dst_port
            d.receiver.receive_payload(d.packet.data, src, dst, self.now)
            self.delivered += 1
        for m in self.managers:
            timer = m.get_timer()
            if timer is not None and timer <= self.now:
                m.handle_timer(self.now)
        self.pump()
        return True

    def run(self, until: Callable[[], bool] | None = None, *, max_time: float = 600.0) -> bool:
        """Step until ``until()`` is true (returns True), nothing is left or ``max_time`` of
        simulated time has passed (returns ``until is None`` then)."""
        limit = self.now + max_time
        while True:
            self.pump()
            if until is not None and until():
                return True
            t = self.next_time()
            if t is None or t > limit:
                return until is None
            self.step()

    def run_for(self, seconds: float) -> None:
        """Process everything due within the next ``seconds`` of simulated time."""
        limit = self.now + seconds
        while True:
            self.pump()
            t = self.next_time()
            if t is None or t > limit:
                break
            self.step()
        self.now = max(self.now, limit)
