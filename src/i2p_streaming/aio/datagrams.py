"""Datagrams for the asyncio session: the I/O shell over :class:`~i2p_streaming.datagrams.
DatagramCore`.

:class:`DatagramHub` (one per :class:`~i2p_streaming.aio.Session`) feeds the core the
payloads of protocols 17-20, hands each checked datagram to the endpoint bound to its kind
and port, and writes what the core queues to the I2CP client at once. An endpoint is a
:class:`DatagramTransport` (``asyncio.DatagramTransport``: ``sendto(data, (dest, port))``,
the protocol's ``datagram_received(data, (sender_b32, port))``) and, in the awaitable form,
a :class:`DatagramEndpoint` (``await ep.recv()``, ``await ep.send(data, dest, port)``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self

from i2p_streaming.aio.i2cp_client import I2CPClient
from i2p_streaming.data import Destination, PrivateKeys
from i2p_streaming.datagrams import DatagramCore, DatagramKind, DatagramReceived, max_payload
from i2p_streaming.errors import DatagramTooLarge, I2CPError
from i2p_streaming.i2cp import events as i2cp_events

__all__ = ["DatagramEndpoint", "DatagramHub", "DatagramQueue", "DatagramTransport"]

log = logging.getLogger("i2p_streaming.aio")

#: Senders remembered for replies by b32 (repliable and Datagram2 carry the Destination).
SENDER_CACHE_SIZE = 256
#: Sends waiting for a name lookup, per session, at most.
MAX_PENDING_LOOKUPS = 64
#: Datagrams a :class:`DatagramQueue` keeps for ``recv`` at most (more are dropped, counted).
DEFAULT_QUEUE_SIZE = 1024

Address = tuple[Destination | str, int]
Resolve = Callable[[Destination | str], Awaitable[Destination]]


class DatagramQueue(asyncio.DatagramProtocol):
    """A protocol that keeps whole :class:`DatagramReceived` events for ``recv`` (at most
    ``maxsize``; newer ones are dropped and counted in :attr:`dropped`)."""

    def __init__(self, maxsize: int = DEFAULT_QUEUE_SIZE) -> None:
        self._items: deque[DatagramReceived] = deque()
        self._maxsize = maxsize
        self._waiters: set[asyncio.Future[None]] = set()
        self._error: BaseException | None = None
        self.dropped = 0

    def event_received(self, event: DatagramReceived) -> None:
        """The transport's delivery (instead of ``datagram_received``)."""
        if len(self._items) >= self._maxsize:
            self.dropped += 1
            return
        self._items.append(event)
        self._wake()

    def error_received(self, exc: Exception) -> None:
        log.debug("datagram endpoint: %s", exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._error = exc if exc is not None else ConnectionError("datagram endpoint is closed")
        self._wake()

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def get(self, timeout: float | None) -> DatagramReceived:
        """The oldest kept datagram, waiting up to ``timeout``; the endpoint's end raises."""
        async with asyncio.timeout(timeout):
            while not self._items:
                if self._error is not None:
                    raise self._error
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.add(waiter)
                try:
                    await waiter
                finally:
                    self._waiters.discard(waiter)
        return self._items.popleft()


class DatagramTransport(asyncio.DatagramTransport):
    """One bound ``kind`` and ``port`` of a session (made by
    :meth:`Session.create_datagram_endpoint`)."""

    def __init__(
        self, hub: DatagramHub, kind: DatagramKind, port: int, protocol: asyncio.BaseProtocol
    ) -> None:
        super().__init__({"sockname": (hub.b32, port), "kind": kind})
        self._hub = hub
        self.kind = kind
        self.port = port
        self._protocol = protocol
        self._closing = False

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def sendto(self, data: Any, addr: Any = None) -> None:
        """Queue ``data`` to ``addr`` = ``(dest, port)`` (``dest``: Destination, base64,
        ``.b32.i2p`` or host name; names not known yet are looked up first, a failure goes to
        the protocol's ``error_received``). Raises :class:`DatagramTooLarge` for a payload
        over the limit, ``ValueError`` for a bad address, ``ConnectionError`` once closed."""
        if self._closing:
            raise ConnectionError(f"{self.kind} datagram endpoint port {self.port} is closed")
        if not (isinstance(addr, tuple) and len(addr) == 2):
            raise ValueError(f"sendto needs an address (dest, port), not {addr!r}")
        dest, port = addr
        if not isinstance(dest, Destination | str) or not isinstance(port, int):
            raise ValueError(f"sendto needs (Destination or name, int port), not {addr!r}")
        self._hub.sendto(self, bytes(data), dest, port)

    def send_options(
        self, data: bytes, addr: tuple[Destination | str, int], options: Mapping[str, str]
    ) -> None:
        """:meth:`sendto` with a Datagram2/3 options Mapping (ValueError for other kinds)."""
        if self._closing:
            raise ConnectionError(f"{self.kind} datagram endpoint port {self.port} is closed")
        self._hub.sendto(self, bytes(data), addr[0], addr[1], options)

    def deliver(self, event: DatagramReceived) -> None:
        """Hand a checked datagram to the protocol (for the hub)."""
        protocol = self._protocol
        if isinstance(protocol, DatagramQueue):
            protocol.event_received(event)
        elif isinstance(protocol, asyncio.DatagramProtocol):
            protocol.datagram_received(event.data, event.address)

    def report(self, exc: Exception) -> None:
        """A send of this endpoint failed (lookup, session): ``error_received``."""
        if isinstance(self._protocol, asyncio.DatagramProtocol):
            self._protocol.error_received(exc)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        """Unbind; ``connection_lost(None)`` follows at the next loop iteration."""
        self._end(None)

    def abort(self) -> None:
        self._end(None)

    def _end(self, exc: Exception | None) -> None:
        if self._closing:
            return
        self._closing = True
        self._hub.unbind(self)
        asyncio.get_running_loop().call_soon(self._protocol.connection_lost, exc)

    def lose(self, exc: Exception) -> None:
        """The session ended under this endpoint (for the hub)."""
        self._end(exc)

    def get_write_buffer_size(self) -> int:
        return 0

    def __repr__(self) -> str:
        state = "closed" if self._closing else "open"
        return f"<DatagramTransport {self.kind} port {self.port} {state}>"


class DatagramEndpoint:
    """The awaitable form: ``await ep.recv()`` and ``await ep.send(data, dest, port)``."""

    def __init__(self, transport: DatagramTransport, queue: DatagramQueue, resolve: Resolve):
        self.transport = transport
        self._queue = queue
        self._resolve = resolve

    @property
    def port(self) -> int:
        """The bound port (0: every port without an endpoint of its own)."""
        return self.transport.port

    @property
    def kind(self) -> DatagramKind:
        return self.transport.kind

    @property
    def dropped(self) -> int:
        """Datagrams dropped because ``recv`` did not keep up (the queue was full)."""
        return self._queue.dropped

    async def recv(self, timeout: float | None = None) -> DatagramReceived:
        """The next datagram (``.data``, ``.sender``, ``.src_port``, ``.destination``...).
        Raises ``TimeoutError`` after ``timeout``, ``ConnectionError`` once closed."""
        return await self._queue.get(timeout)

    async def send(
        self,
        data: bytes,
        dest: Destination | str,
        port: int = 0,
        *,
        options: Mapping[str, str] | None = None,
    ) -> None:
        """Resolve ``dest`` (lookup errors raise here) and queue ``data`` to it, with a
        Datagram2/3 ``options`` Mapping if given. Raises :class:`DatagramTooLarge`,
        ``ValueError`` for options on another kind, ``ConnectionError`` once closed."""
        destination = await self._resolve(dest)
        if options:
            self.transport.send_options(data, (destination, port), options)
        else:
            self.transport.sendto(data, (destination, port))

    def close(self) -> None:
        self.transport.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class DatagramHub:
    """The datagram side of one session. ``client()`` returns the live I2CP client (raising
    ``ConnectionError`` when there is none), ``cached``/``resolve`` name Destinations."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        keys: PrivateKeys,
        epoch_offset: float,
        client: Callable[[], I2CPClient],
        cached: Callable[[Destination | str], Destination | None],
        resolve: Resolve,
    ) -> None:
        self._loop = loop
        self.core = DatagramCore(keys, epoch_offset=epoch_offset)
        self.b32 = keys.destination.b32
        self._keys = keys
        self._client = client
        self._cached = cached
        self._resolve = resolve
        self._endpoints: dict[tuple[DatagramKind, int], DatagramTransport] = {}
        self._senders: OrderedDict[str, Destination] = OrderedDict()
        self._lookups: set[asyncio.Task[None]] = set()
        #: Datagrams the I2CP client did not take (write buffer full, reconnecting).
        self.dropped_sends = 0
        #: Exceptions raised by the protocols' ``datagram_received`` (each logged).
        self.protocol_errors = 0

    # ------------------------------------------------------------------ endpoints
    def create(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], port: int, kind: str
    ) -> tuple[DatagramTransport, asyncio.BaseProtocol]:
        """Bind ``kind`` on ``port``; raises ValueError for an unknown kind, OSError when
        bound already."""
        try:
            dkind = DatagramKind(kind)
        except ValueError:
            names = ", ".join(repr(k.value) for k in DatagramKind)
            raise ValueError(f"unknown datagram kind {kind!r} (one of {names})") from None
        self._client()
        self.core.bind(dkind, port)
        try:
            protocol = protocol_factory()
        except BaseException:
            self.core.unbind(dkind, port)
            raise
        transport = DatagramTransport(self, dkind, port, protocol)
        self._endpoints[(dkind, port)] = transport
        protocol.connection_made(transport)
        return transport, protocol

    def endpoint(self, port: int, kind: str) -> DatagramEndpoint:
        """The awaitable form of :meth:`create`."""
        transport, queue = self.create(DatagramQueue, port, kind)
        assert isinstance(queue, DatagramQueue) and isinstance(transport, DatagramTransport)
        return DatagramEndpoint(transport, queue, self.resolve)

    def _known(self, dest: Destination | str) -> Destination | None:
        found = self._cached(dest)
        if found is None and isinstance(dest, str):
            found = self._senders.get(dest.strip().lower())
        return found

    async def resolve(self, dest: Destination | str) -> Destination:
        """``dest`` as a Destination: known (given, cached, a recent sender) or looked up."""
        found = self._known(dest)
        return found if found is not None else await self._resolve(dest)

    def unbind(self, transport: DatagramTransport) -> None:
        """Forget ``transport`` (it closed)."""
        key = (transport.kind, transport.port)
        if self._endpoints.get(key) is transport:
            del self._endpoints[key]
            self.core.unbind(*key)

    def close_all(self, exc: Exception | None = None) -> None:
        """End every endpoint (``exc``: the session's end, or None for a close)."""
        for task in list(self._lookups):
            task.cancel()
        for transport in list(self._endpoints.values()):
            if exc is None:
                transport.close()
            else:
                transport.lose(exc)

    # ------------------------------------------------------------------ receive
    def receive(self, event: i2cp_events.PayloadReceived) -> None:
        """One payload of protocol 17-20: checked by the core, delivered to its endpoint."""
        core = self.core
        core.receive_payload(
            event.protocol, event.data, event.src_port, event.dst_port, self._loop.time()
        )
        while (got := core.next_event()) is not None:
            if got.destination is not None and got.sender is not None:
                self._remember(got.sender, got.destination)
            transport = self._endpoints.get((got.kind, got.local_port))
            if transport is None:
                continue
            try:
                transport.deliver(got)
            except Exception:  # the application's protocol: the next datagrams still go
                self.protocol_errors += 1
                log.exception("datagram protocol of %r failed", transport)

    def _remember(self, b32: str, destination: Destination) -> None:
        senders = self._senders
        senders.pop(b32, None)
        if len(senders) >= SENDER_CACHE_SIZE:
            senders.popitem(last=False)
        senders[b32] = destination

    # ------------------------------------------------------------------ send
    def sendto(
        self,
        transport: DatagramTransport,
        data: bytes,
        dest: Destination | str,
        port: int,
        options: Mapping[str, str] | None = None,
    ) -> None:
        """Send now when ``dest`` is known, else after a lookup (errors to the protocol)."""
        kind = transport.kind
        if options and kind not in (DatagramKind.DATAGRAM2, DatagramKind.DATAGRAM3):
            raise ValueError(f"{kind} datagrams have no options (datagram2 and datagram3 do)")
        limit = max_payload(kind, self._keys)
        if len(data) > limit:
            raise DatagramTooLarge(
                f"a {len(data)}-byte {kind} payload is over the {limit}-byte limit "
                f"(keep datagrams under 11 KB for reliable delivery)"
            )
        client = self._client()
        destination = self._known(dest)
        if destination is not None:
            self._send(client, transport, data, destination, port, options)
            return
        if len(self._lookups) >= MAX_PENDING_LOOKUPS:
            raise BlockingIOError(f"{MAX_PENDING_LOOKUPS} datagram sends already wait for lookups")
        task = self._loop.create_task(self._send_later(transport, data, dest, port, options))
        self._lookups.add(task)
        task.add_done_callback(self._lookups.discard)

    async def _send_later(
        self,
        transport: DatagramTransport,
        data: bytes,
        dest: Destination | str,
        port: int,
        options: Mapping[str, str] | None,
    ) -> None:
        try:
            destination = await self._resolve(dest)
            if not transport.is_closing():
                self._send(self._client(), transport, data, destination, port, options)
        except (OSError, I2CPError, ValueError) as exc:  # lookups, a session gone, options
            transport.report(exc)

    def _send(
        self,
        client: I2CPClient,
        transport: DatagramTransport,
        data: bytes,
        destination: Destination,
        port: int,
        options: Mapping[str, str] | None,
    ) -> None:
        core = self.core
        core.send(transport.kind, data, destination, port, src_port=transport.port, options=options)
        batch = [
            (d.destination, d.data, d.protocol, d.src_port, d.dst_port, d.compress)
            for d in core.datagrams_to_send()
        ]
        try:
            self.dropped_sends += len(batch) - client.send_many_nowait(batch)
        except (I2CPError, ConnectionError) as exc:
            self.dropped_sends += len(batch)
            transport.report(exc)
