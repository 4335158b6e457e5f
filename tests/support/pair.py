"""Two managers wired over the fake link, each with a tiny scripted application (:class:`Side`).

``make_pair(keys_a, keys_b)`` returns a :class:`Pair`: ``a`` (the client side) and ``b`` (listening
on port 0 unless ``listen=None``; ``echo=True`` makes it echo and close), and ``link``.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import (
    ConnectionClosed,
    ConnectionEstablished,
    ConnectionFailed,
    ConnectionReset,
    DataReceived,
    Event,
    IncomingConnection,
    PeerClosed,
    SendBufferAvailable,
    StreamManager,
    StreamOptions,
)
from tests.support.link import FakeLink, Impairment


@dataclass
class Side:
    """What one manager's application saw, plus its pending writes."""

    manager: StreamManager
    received: dict[int, bytearray] = field(default_factory=lambda: defaultdict(bytearray))
    peer_closed: set[int] = field(default_factory=set)
    closed: set[int] = field(default_factory=set)
    reset: dict[int, ConnectionReset] = field(default_factory=dict)
    failed: dict[int, ConnectionFailed] = field(default_factory=dict)
    established: set[int] = field(default_factory=set)
    incoming: list[IncomingConnection] = field(default_factory=list)
    outbox: dict[int, bytearray] = field(default_factory=dict)
    close_after_outbox: set[int] = field(default_factory=set)
    echo: bool = False  # server: echo everything, close when the peer closed
    #: with a manager made with auto_consume=False: read (credit) at once, or keep unread
    reading: bool = True
    unread: int = 0

    def write(self, sid: int, data: bytes, now: float, close: bool = False) -> None:
        self.outbox.setdefault(sid, bytearray()).extend(data)
        if close:
            self.close_after_outbox.add(sid)
        self.flush(sid, now)

    def flush(self, sid: int, now: float) -> None:
        buf = self.outbox.get(sid)
        if buf:
            n = self.manager.send(sid, bytes(buf), now)
            del buf[:n]
        if not buf and sid in self.close_after_outbox:
            self.close_after_outbox.discard(sid)
            self.manager.close(sid, now)

    def read(self, sid: int, nbytes: int, now: float) -> None:
        """The application reads ``nbytes`` it had left unread (read credit)."""
        n = min(nbytes, self.unread)
        self.unread -= n
        self.manager.consumed(sid, n, now)

    def on_event(self, link: FakeLink, ev: Event) -> None:
        now = link.now
        if isinstance(ev, DataReceived):
            self.received[ev.stream_id].extend(ev.data)
            if not self.manager.auto_consume:
                if self.reading:
                    self.manager.consumed(ev.stream_id, len(ev.data), now)
                else:
                    self.unread += len(ev.data)
            if self.echo:
                self.write(ev.stream_id, ev.data, now)
        elif isinstance(ev, PeerClosed):
            self.peer_closed.add(ev.stream_id)
            if self.echo:
                self.write(ev.stream_id, b"", now, close=True)
        elif isinstance(ev, ConnectionClosed):
            self.closed.add(ev.stream_id)
        elif isinstance(ev, ConnectionReset):
            self.reset[ev.stream_id] = ev
        elif isinstance(ev, ConnectionFailed):
            self.failed[ev.stream_id] = ev
        elif isinstance(ev, ConnectionEstablished):
            self.established.add(ev.stream_id)
        elif isinstance(ev, IncomingConnection):
            self.incoming.append(ev)
        elif isinstance(ev, SendBufferAvailable):
            self.flush(ev.stream_id, now)


@dataclass
class Pair:
    a: Side
    b: Side
    link: FakeLink

    def side(self, manager: StreamManager) -> Side:
        return self.a if manager is self.a.manager else self.b

    def dispatch(self, link: FakeLink, manager: StreamManager, ev: Event) -> None:
        """The link's default ``on_event``: hand ``ev`` to the side of ``manager``."""
        self.side(manager).on_event(link, ev)


def make_pair(
    keys_a: PrivateKeys,
    keys_b: PrivateKeys,
    *,
    impairment: Impairment | None = None,
    seed: int = 0,
    options: StreamOptions | None = None,
    listen: int | None = 0,
    echo: bool = False,
    options_b: StreamOptions | None = None,
    auto_consume: bool = True,
) -> Pair:
    """Managers for ``keys_a`` (side ``a``) and ``keys_b`` (side ``b``, listening on ``listen``)
    over a :class:`FakeLink` seeded with ``seed``; ``options_b`` defaults to ``options``."""
    ma = StreamManager(keys_a, options, rng=random.Random(seed), auto_consume=auto_consume)
    mb = StreamManager(
        keys_b, options_b or options, rng=random.Random(seed + 1), auto_consume=auto_consume
    )
    if listen is not None:
        mb.listen(listen)
    a, b = Side(ma), Side(mb, echo=echo)
    link = FakeLink([ma, mb], impairment or Impairment(), seed=seed)
    pair = Pair(a, b, link)
    link.on_event = pair.dispatch
    return pair
