"""The embedded loopback I2CP router: sessions, names, routing and the delivery scheduler.

:class:`EmbeddedRouter` listens on TCP (optionally TLS), speaks the router side of I2CP to
every client (see :mod:`~i2p_streaming.router.connection`) and routes payloads between its own
sessions only, through the :class:`~i2p_streaming.router.impairment.ImpairmentEngine`.
Deliveries wait in one heap ordered by ``(time, sequence)`` with a single loop timer armed
for the earliest, so payloads due at the same instant keep their order.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import ssl as ssl_module
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from i2p_streaming.data import Destination, Lease, b32_address_to_hash, is_b32_address
from i2p_streaming.i2cp import messages as m
from i2p_streaming.router.blinding import BlindingTable
from i2p_streaming.router.connection import (
    STATUS_META_LEASESET,
    STATUS_NO_LEASESET,
    STATUS_NO_TUNNELS,
    STATUS_SUCCESS,
    ClientConnection,
)
from i2p_streaming.router.hosts import MAX_NAMES
from i2p_streaming.router.impairment import (
    Counters,
    ImpairmentEngine,
    Impairments,
    corrupt_payload,
)

__all__ = ["EmbeddedRouter", "RouterStats", "SessionChange"]

log = logging.getLogger("i2p_streaming.router")


@dataclass(eq=False)
class RouterSession:
    """A client session on the router (one per connection)."""

    session_id: int
    destination: Destination
    options: dict[str, str]
    conn: ClientConnection
    lease_set: m.AnyLeaseSet | None = None
    leases: tuple[Lease, ...] = ()
    refresh: asyncio.TimerHandle | None = field(default=None, repr=False)

    @property
    def hash(self) -> bytes:
        """The Destination hash."""
        return self.destination.hash

    @property
    def final_status_only(self) -> bool:
        """True with ``i2cp.messageReliability=none`` (no "accepted" status first)."""
        return self.options.get("i2cp.messageReliability", "").strip().lower() == "none"

    @property
    def fast_receive(self) -> bool:
        """False only with ``i2cp.fastReceive=false``: then each payload is announced with
        MessageStatus 0 and sent on ReceiveMessageBegin (Java's legacy flow). Unlike Java's
        router, a missing option means fast receive (as on i2pd)."""
        return self.options.get("i2cp.fastReceive", "true").strip().lower() != "false"


@dataclass(frozen=True, slots=True)
class SessionChange:
    """A session came (``opened`` True) or went: its id, b32 address and the client's
    ``host:port``."""

    opened: bool
    session_id: int
    b32: str
    client: str


@dataclass(frozen=True, slots=True)
class RouterStats:
    """A snapshot for status lines: open connections, sessions, router-wide payload counters
    the number of clients disconnected for protocol errors, and how often the router stopped
    reading a client's socket (back-pressure)."""

    connections: int
    sessions: int
    counters: Counters
    protocol_errors: int
    read_pauses: int


@dataclass(slots=True)
class _Scheduled:
    src: bytes
    dst: bytes
    blob: bytes
    corrupt: tuple[int, int] | None
    sender: ClientConnection


def _hash_of(value: bytes | Destination) -> bytes:
    if isinstance(value, Destination):
        return value.hash
    if len(value) != 32:
        raise ValueError("a destination hash must be 32 bytes")
    return bytes(value)


class EmbeddedRouter:
    """An I2CP router on the loopback interface for tests and demos.

    Use ``async with EmbeddedRouter(...) as router`` (or :meth:`start`/:meth:`stop`).
    ``port=0`` picks a free port (see :attr:`address`). ``impairments`` apply to every
    directed pair of destinations (override with :meth:`set_pair_impairments`); ``seed`` makes
    impairments, session ids and leases reproducible. ``tls`` serves I2CP over TLS only;
    ``username``/``password`` require these credentials in GetDate. ``lease_lifetime`` is the
    validity of the fake leases (a new RequestVariableLeaseSet comes before they end).
    ``max_queue_bytes`` bounds each client's outgoing queue (payloads to a fuller one are
    dropped and counted) and ``max_pending_bytes`` the bytes a sender may have in flight
    before the router stops reading its socket. ``clock`` is the wall clock (seconds).
    ``names`` are host names HostLookup resolves (at most :data:`~i2p_streaming.router.hosts.
    MAX_NAMES`; see :meth:`register_name`). ``on_session`` is called with a
    :class:`SessionChange` whenever a session is created or removed. ``enc_types`` are the
    lease-set encryption types it supports (default 0, 4, 5, 6, 7): a CreateSession naming
    another in ``i2cp.leaseSetEncType`` is disconnected as Java does ("Unsupported crypto
    type: 6"), e.g. ``enc_types={0, 4}`` for a router without ML-KEM.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        impairments: Impairments | None = None,
        seed: int | None = None,
        tls: ssl_module.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
        lease_lifetime: float = 600.0,
        leases_per_set: int | None = None,
        max_queue_bytes: int = 1 << 20,
        max_pending_bytes: int = 1 << 20,
        clock: Callable[[], float] = time.time,
        names: Mapping[str, Destination] | None = None,
        on_session: Callable[[SessionChange], None] | None = None,
        enc_types: Collection[int] = (0, 4, 5, 6, 7),
    ) -> None:
        if leases_per_set is not None and not 1 <= leases_per_set <= 16:
            raise ValueError("leases_per_set must be 1..16")
        self.host = host
        self.port = port
        self.tls = tls
        self.username = username
        self.password = password
        self.lease_lifetime = lease_lifetime
        self.leases_per_set = leases_per_set
        self.max_queue_bytes = max_queue_bytes
        self.max_pending_bytes = max_pending_bytes
        self.clock = clock
        self.on_session = on_session
        self.enc_types = frozenset(enc_types)
        self.blinding = BlindingTable()
        self.engine = ImpairmentEngine(impairments, random.Random(seed))
        self._rng = random.Random(None if seed is None else f"router:{seed}")
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connections: set[ClientConnection] = set()
        self._by_id: dict[int, RouterSession] = {}
        self._by_hash: dict[bytes, RouterSession] = {}
        self._names: dict[str, Destination] = {}
        for name, destination in (names or {}).items():
            self.register_name(name, destination)
        self._heap: list[tuple[float, int, _Scheduled]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._message_id = self._rng.randrange(1, 1 << 31)
        self.protocol_errors = 0
        self.read_pauses = 0
        self._waiters: list[tuple[Callable[[EmbeddedRouter], bool], asyncio.Future[None]]] = []

    def count_protocol_error(self) -> None:
        """A client broke the I2CP protocol (counted in the status snapshot)."""
        self.protocol_errors += 1

    def count_read_pause(self) -> None:
        """A client's socket reading was paused for back-pressure (counted)."""
        self.read_pauses += 1

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening. Raises ``OSError`` if the address cannot be bound."""
        if self._server is not None:
            raise RuntimeError("router already started")
        self._loop = asyncio.get_running_loop()
        self._server = await self._loop.create_server(
            lambda: ClientConnection(self), self.host, self.port, ssl=self.tls
        )
        sockname = self._server.sockets[0].getsockname()
        self.host, self.port = sockname[0], sockname[1]
        log.info("embedded I2CP router listening on %s:%d", self.host, self.port)

    async def stop(self, *, timeout: float = 2.0) -> None:
        """Stop listening, send every client a Disconnect, and close them. Idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for conn in list(self._connections):
            conn.disconnect("router shutting down", error=False)
        waiters = [conn.closed for conn in self._connections]
        if waiters:
            await asyncio.wait(waiters, timeout=timeout)
            for conn in list(self._connections):
                conn.abort()
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_at = None, None
        self._heap.clear()
        if server is not None:
            await server.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- public API ------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the router listens on (the real port once started)."""
        return (self.host, self.port)

    @property
    def impairments(self) -> Impairments:
        """Router-wide impairments (for pairs without their own); settable at run time."""
        return self.engine.default

    @impairments.setter
    def impairments(self, value: Impairments) -> None:
        self.engine.default = value

    def set_pair_impairments(
        self, src: bytes | Destination, dst: bytes | Destination, impairments: Impairments | None
    ) -> None:
        """Impair payloads from ``src`` to ``dst`` (Destinations or 32-byte hashes) with
        ``impairments`` instead of the router-wide ones; ``None`` removes the override."""
        self.engine.set_pair(_hash_of(src), _hash_of(dst), impairments)

    def counters(
        self, src: bytes | Destination | None = None, dst: bytes | Destination | None = None
    ) -> Counters:
        """Payload counters summed over the directed pairs matching ``src``/``dst``."""
        return self.engine.counters(
            None if src is None else _hash_of(src), None if dst is None else _hash_of(dst)
        )

    def register_name(self, name: str, destination: Destination) -> None:
        """Make HostLookup by name (type 1/3) return ``destination`` (case-insensitive).

        Raises ValueError for an empty or over-long name, or a new name when the table
        already holds :data:`~i2p_streaming.router.hosts.MAX_NAMES`."""
        if not name or len(name.encode()) > 255:
            raise ValueError("a host name must be 1-255 bytes")
        key = name.lower()
        if key not in self._names and len(self._names) >= MAX_NAMES:
            raise ValueError(f"the router already knows {MAX_NAMES} names")
        self._names[key] = destination

    @property
    def names(self) -> dict[str, Destination]:
        """A copy of the host-name table (lower-case names)."""
        return dict(self._names)

    def unregister_name(self, name: str) -> None:
        """Forget ``name`` (no error if unknown)."""
        self._names.pop(name.lower(), None)

    def destinations(self) -> list[Destination]:
        """Destinations of the sessions currently open."""
        return [s.destination for s in self._by_hash.values()]

    def stats(self) -> RouterStats:
        """Connections, sessions, router-wide counters and protocol errors right now."""
        return RouterStats(
            len(self._connections),
            len(self._by_id),
            self.engine.counters(),
            self.protocol_errors,
            self.read_pauses,
        )

    async def wait_until(
        self, predicate: Callable[[EmbeddedRouter], bool], *, timeout: float = 10.0
    ) -> None:
        """Wait until ``predicate(router)`` is true; it is re-checked after every batch of
        client input, every delivery run and every disconnection. Raises ``TimeoutError``
        after ``timeout`` seconds (for tests: no sleeping, no polling)."""
        if predicate(self):
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (predicate, fut)
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(fut, timeout)
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def _check_waiters(self) -> None:
        if not self._waiters:
            return
        for predicate, fut in list(self._waiters):
            if not fut.done() and predicate(self):
                fut.set_result(None)

    def wall_ms(self) -> int:
        """Router time in ms since the epoch."""
        return int(self.clock() * 1000)

    # -- registry (used by ClientConnection) ---------------------------------------------

    def connection_opened(self, conn: ClientConnection) -> None:
        self._connections.add(conn)

    def connection_closed(self, conn: ClientConnection) -> None:
        self._connections.discard(conn)
        if conn.session is not None:
            self.remove_session(conn.session)
        self._check_waiters()

    def destination_in_use(self, destination: Destination) -> bool:
        return destination.hash in self._by_hash

    def add_session(
        self, conn: ClientConnection, destination: Destination, options: Mapping[str, str]
    ) -> RouterSession:
        """Register a session under a fresh random id (never 0xFFFF)."""
        while True:
            sid = self._rng.randrange(0, m.NO_SESSION)
            if sid not in self._by_id:
                break
        session = RouterSession(sid, destination, dict(options), conn)
        self._by_id[sid] = session
        self._by_hash[destination.hash] = session
        log.debug("session %d opened: %s from %s", sid, destination.b32, conn.peer)
        if self.on_session is not None:
            self.on_session(SessionChange(True, sid, destination.b32, conn.peer))
        return session

    def remove_session(self, session: RouterSession) -> None:
        if session.refresh is not None:
            session.refresh.cancel()
            session.refresh = None
        if self._by_id.get(session.session_id) is session:
            del self._by_id[session.session_id]
        if self._by_hash.get(session.hash) is session:
            del self._by_hash[session.hash]
        else:
            return
        b32 = session.destination.b32
        log.debug("session %d closed: %s from %s", session.session_id, b32, session.conn.peer)
        if self.on_session is not None:
            self.on_session(SessionChange(False, session.session_id, b32, session.conn.peer))

    def request_lease_set(self, session: RouterSession) -> None:
        """Send RequestVariableLeaseSet with fresh fake leases; schedule the next one."""
        count = self.leases_per_set or self._rng.randint(1, 2)
        end_ms = self.wall_ms() + int(self.lease_lifetime * 1000)
        session.leases = tuple(
            Lease(self._rng.randbytes(32), self._rng.randrange(1, 1 << 32), end_ms)
            for _ in range(count)
        )
        session.conn.send(m.RequestVariableLeaseSet(session.session_id, session.leases))
        assert self._loop is not None
        delay = max(self.lease_lifetime - 60.0, self.lease_lifetime / 2)
        session.refresh = self._loop.call_later(delay, self._refresh, session)

    def _refresh(self, session: RouterSession) -> None:
        session.refresh = None
        if self._by_id.get(session.session_id) is session:
            self.request_lease_set(session)

    def find(self, key: bytes) -> Destination | None:
        """The Destination of a reachable session (lease set published) with hash ``key``."""
        session = self._by_hash.get(key)
        if session is None or session.lease_set is None:
            return None
        return session.destination

    def session_for_signing_key(self, key: bytes) -> RouterSession | None:
        """The session whose Destination has the signing public key ``key``."""
        for session in self._by_hash.values():
            if session.destination.signing_public_key == key:
                return session
        return None

    def find_session(self, key: bytes) -> RouterSession | None:
        """The reachable session with Destination hash ``key``."""
        session = self._by_hash.get(key)
        return session if session is not None and session.lease_set is not None else None

    def resolve(self, name: str) -> Destination | None:
        """A registered name, or a reachable ``.b32.i2p`` address."""
        dest = self._names.get(name.lower())
        if dest is None and is_b32_address(name):
            dest = self.find(b32_address_to_hash(name))
        return dest

    def next_message_id(self) -> int:
        mid = self._message_id
        self._message_id = (mid + 1) & 0xFFFFFFFF or 1
        return mid

    # -- routing ---------------------------------------------------------------------------

    def route(self, sender: RouterSession, target: Destination, blob: bytes) -> int:
        """Accept ``blob`` from ``sender`` for ``target``; return the final MessageStatus code.

        On success the impairment engine decides the copies and they are scheduled.
        """
        if sender.lease_set is None:
            return STATUS_NO_TUNNELS
        receiver = self.find_session(target.hash)
        if receiver is None:
            return STATUS_NO_LEASESET
        if isinstance(receiver.lease_set, m.MetaLeaseSet):
            return STATUS_META_LEASESET
        assert self._loop is not None
        now = self._loop.time()
        src = sender.hash
        for copy in self.engine.decide(src, receiver.hash, len(blob), now):
            item = _Scheduled(src, receiver.hash, blob, copy.corrupt, sender.conn)
            sender.conn.add_pending(len(blob))
            heapq.heappush(self._heap, (copy.at, next(self._seq), item))
        return STATUS_SUCCESS

    def run_due(self) -> None:
        """Deliver everything due now, in order; re-arm the timer for the next."""
        assert self._loop is not None
        now = self._loop.time()
        if self._timer_at is not None and self._timer is None:
            now = max(now, self._timer_at)
        heap = self._heap
        while heap and heap[0][0] <= now:
            self._deliver(heapq.heappop(heap)[2])
        self._arm(heap[0][0] if heap else None)
        self._check_waiters()

    def _arm(self, deadline: float | None) -> None:
        if deadline == self._timer_at and (deadline is None or self._timer is not None):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = None, deadline
        if deadline is not None:
            assert self._loop is not None
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None  # _timer_at stays: run_due treats it as "now"
        self.run_due()

    def _deliver(self, item: _Scheduled) -> None:
        size = len(item.blob)
        item.sender.remove_pending(size)
        receiver = self._by_hash.get(item.dst)
        if receiver is None or not receiver.conn.is_open:
            self.engine.undeliverable(item.src, item.dst, size)
            return
        if receiver.conn.queued_bytes > self.max_queue_bytes:
            self.engine.undeliverable(item.src, item.dst, size, overflow=True)
            return
        blob = item.blob
        if item.corrupt is not None:
            blob = corrupt_payload(blob, *item.corrupt)
        receiver.conn.deliver(receiver, self.next_message_id(), blob)
