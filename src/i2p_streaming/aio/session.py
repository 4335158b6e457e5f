"""The asyncio session: one local destination, one I2CP client, one StreamManager, one pump.

This is the thin I/O shell over the sans-I/O :class:`~i2p_streaming.streaming.StreamManager`:
every input (a payload from the router, an application call, the timer) is followed — once per
loop iteration, so a burst of payloads gets one flush — by the :class:`~i2p_streaming.aio.pump.
Pump` step: ``payloads_to_send`` to the I2CP client in one write (:mod:`.outbound`), the core's
events dispatched through a table from event type to handler, the single timer re-armed from
``get_timer``. Names are resolved by :mod:`.resolver`; sessions are opened by :mod:`.opener`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from i2p_streaming.aio.config import OptionsArg, stream_options
from i2p_streaming.aio.datagrams import DatagramEndpoint, DatagramHub, DatagramTransport
from i2p_streaming.aio.i2cp_client import I2CPClient
from i2p_streaming.aio.i2cp_types import SessionLost, SessionRestored
from i2p_streaming.aio.outbound import Outbound
from i2p_streaming.aio.pcap import PcapWriter
from i2p_streaming.aio.pinger import Pings
from i2p_streaming.aio.pump import Pump
from i2p_streaming.aio.resolver import Resolver
from i2p_streaming.aio.server import StreamServer
from i2p_streaming.aio.streams import StreamTable
from i2p_streaming.aio.transport import StreamTransport
from i2p_streaming.checks import check_port
from i2p_streaming.data import Destination, PrivateKeys
from i2p_streaming.datagrams import DatagramKind
from i2p_streaming.i2cp import PROTO_STREAMING
from i2p_streaming.i2cp import events as i2cp_events
from i2p_streaming.streaming import (
    ConnectionClosed,
    ConnectionEstablished,
    ConnectionFailed,
    ConnectionReset,
    DataReceived,
    IncomingConnection,
    PeerClosed,
    PingAnswered,
    PingTimeout,
    SendBufferAvailable,
    SendComplete,
    StreamManager,
    StreamOptions,
)
from i2p_streaming.streaming.events import Event
from i2p_streaming.streaming.manager import DEFAULT_BACKLOG

__all__ = ["Session"]

log = logging.getLogger("i2p_streaming.aio")

_PROTOCOLS = (PROTO_STREAMING, 0)
_DATAGRAMS = frozenset(k.protocol for k in DatagramKind)


class Session:
    """Streams to and from one local destination. Create with
    :func:`~i2p_streaming.aio.create_session`."""

    def __init__(
        self, keys: PrivateKeys, options: StreamOptions, *, pcap: PcapWriter | None = None
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self.keys = keys
        #: The capture of every streaming packet sent and received (``pcap=FILE``), or None.
        self.pcap = pcap
        #: Payloads of neither streaming (6, 0) nor datagrams (17-20), by protocol number.
        self.ignored_payloads: dict[int, int] = {}
        epoch_offset = time.time() - self._loop.time()
        # read credit: transports report what their protocols read (flow control, choke)
        self._manager = StreamManager(keys, options, epoch_offset=epoch_offset, auto_consume=False)
        self._i2cp: I2CPClient | None = None
        self._pump = Pump(self._loop, self._step, self._manager.handle_timer)
        self._outbound = Outbound(self._loop, keys.destination.b32, self._refused)
        self._resolver = Resolver()
        #: The datagram endpoints of this session (protocols 17-20).
        self.datagrams = DatagramHub(
            self._loop, keys, epoch_offset, self._client, self._resolver.cached, self.resolve
        )
        self._table = StreamTable()
        self._servers: dict[int, StreamServer] = {}
        table = self._table
        #: The table from core event type to handler.
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            DataReceived: table.on_data,
            SendBufferAvailable: table.on_send_buffer,
            SendComplete: table.on_send_complete,
            IncomingConnection: self._incoming,
            ConnectionEstablished: table.on_established,
            PeerClosed: table.on_peer_closed,
            ConnectionClosed: table.on_closed,
            ConnectionReset: table.on_reset,
            ConnectionFailed: table.on_failed,
            PingAnswered: table.on_ping,
            PingTimeout: table.on_ping,
        }
        self._syn_owner: int | None = None
        self._closed = False
        self._lost_reason: str | None = None

    # ------------------------------------------------------------------ properties
    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the session runs on."""
        return self._loop

    @property
    def manager(self) -> StreamManager:
        """The sans-I/O streaming core (drive it only through this session)."""
        return self._manager

    @property
    def client(self) -> I2CPClient | None:
        """The I2CP client under this session (None before :meth:`attach`)."""
        return self._i2cp

    @property
    def destination(self) -> Destination:
        """Our Destination."""
        return self.keys.destination

    @property
    def b32(self) -> str:
        """Our ``.b32.i2p`` address."""
        return self.keys.destination.b32

    @property
    def options(self) -> StreamOptions:
        """The default streaming options of this session."""
        return self._manager.options

    @property
    def is_closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    @property
    def internal_errors(self) -> int:
        """Unexpected exceptions in the session's own tasks (each logged at ERROR)."""
        return self._outbound.internal_errors

    def _client(self) -> I2CPClient:
        if self._closed or self._i2cp is None:
            raise ConnectionError(f"session {self.b32} is closed")
        if self._lost_reason is not None:
            raise ConnectionError(f"session {self.b32} lost its router: {self._lost_reason}")
        return self._i2cp

    # ------------------------------------------------------------------ the I/O shell
    def attach(self, client: I2CPClient) -> None:
        """Use ``client`` (connected with :meth:`on_payload`/:meth:`on_session_event` as its
        callbacks) and flush what is queued."""
        self._i2cp = client
        self._pump.schedule()

    def on_payload(self, event: i2cp_events.PayloadReceived) -> None:
        """I2CP callback: streaming to the manager (one flush per batch), datagrams to the hub."""
        if event.protocol in _DATAGRAMS:
            self.datagrams.receive(event)
            return
        if event.protocol not in _PROTOCOLS:  # counted (at most 256 keys) and dropped
            self.ignored_payloads[event.protocol] = self.ignored_payloads.get(event.protocol, 0) + 1
            return
        if self.pcap is not None:
            self.pcap.received(event.data, event.src_port, event.dst_port, time.time())
        self._manager.receive_payload(event.data, event.src_port, event.dst_port, self._loop.time())
        self._pump.schedule()

    def on_session_event(self, event: SessionLost | SessionRestored) -> None:
        """I2CP callback: the router session ended; every stream and waiter fails."""
        if isinstance(event, SessionLost):
            self._lost_reason = event.reason
            self._fail_all(f"I2CP session with router {event.router} lost: {event.reason}")

    def schedule_flush(self) -> None:
        """Run :meth:`flush` once at the end of this loop iteration."""
        self._pump.schedule()

    def flush(self) -> None:
        """Send what the manager has, dispatch its events, re-arm the timer (now)."""
        self._pump.run()

    def _step(self) -> float | None:
        manager = self._manager
        client = self._i2cp
        packets = manager.payloads_to_send(self._loop.time())
        if packets and client is not None and not self._closed:
            if self.pcap is not None:
                self.pcap.sent(packets, time.time())
            self._outbound.send(client, packets, self._syn_owner, self.options.connect_timeout)
        while (event := manager.next_event()) is not None:
            handler = self._handlers.get(type(event))
            if handler is not None:
                handler(event)
            else:
                log.debug("session %s: unhandled event %s", self.b32, event)
        return manager.get_timer()

    def _refused(self, stream_id: int, message: str) -> None:
        fut = self._table.connect_future(stream_id)
        if fut is not None and not fut.done():
            self._manager.reset(stream_id, self._loop.time())
            fut.set_exception(ConnectionRefusedError(message))
            self._pump.schedule()

    # ------------------------------------------------------------------ event handlers
    def _incoming(self, event: IncomingConnection) -> None:
        server = self._servers.get(event.local_port) or self._servers.get(0)
        if server is None:
            self._manager.reset(event.stream_id, self._loop.time())
            return
        try:
            protocol = server.protocol_factory()
        except Exception:
            log.exception("session %s: protocol factory failed", self.b32)
            self._manager.reset(event.stream_id, self._loop.time())
            return
        transport = StreamTransport(
            self, event.stream_id, protocol, event.peer, event.local_port, event.remote_port
        )
        self._manager.accepted(event.stream_id)
        self._table.add(transport)
        transport.start()

    def _fail_all(self, reason: str) -> None:
        self._table.fail_all(reason)
        self.datagrams.close_all(ConnectionError(reason))

    # ------------------------------------------------------------------ for transports, servers
    def forget(self, transport: StreamTransport) -> None:
        """A transport has ended: stop routing events to it."""
        self._table.forget(transport)

    def register_server(self, server: StreamServer) -> None:
        """Listen on ``server.port`` (used by :class:`StreamServer`)."""
        current = self._servers.get(server.port)
        if current is not None and current is not server:
            raise OSError(f"port {server.port} of {self.b32} already has a server")
        self._servers[server.port] = server
        self._manager.listen(server.port, backlog=server.backlog)

    def unregister_server(self, server: StreamServer) -> None:
        """Stop listening on ``server.port`` (used by :class:`StreamServer`)."""
        if self._servers.get(server.port) is server:
            del self._servers[server.port]
            self._manager.unlisten(server.port)

    # ------------------------------------------------------------------ public API
    async def resolve(self, dest: Destination | str, *, timeout: float = 30.0) -> Destination:
        """A Destination from a Destination, a base64 destination, a ``.b32.i2p`` address or
        a host name the router knows (looked up over I2CP, cached).

        Raises :class:`DataFormatError` for text that is no destination (checked before any
        lookup), :class:`DestinationLookupError` for unknown names, ``TimeoutError``."""
        found = self._resolver.cached(dest)
        if found is not None:
            return found
        assert isinstance(dest, str)
        return await self._resolver.lookup(self._client(), dest, timeout)

    async def create_connection(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        dest: Destination | str,
        port: int = 0,
        *,
        local_port: int = 0,
        options: OptionsArg = None,
        timeout: float | None = None,
    ) -> tuple[StreamTransport, asyncio.BaseProtocol]:
        """Open a stream to ``dest``:``port`` and return ``(transport, protocol)`` once the
        peer answered (``connection_made`` was called).

        ``options``: ``i2p.streaming.*`` overrides for this stream. ``timeout`` bounds the
        whole call (lookup included; default: the connect timeout, 60 s). Raises
        ``ConnectionRefusedError`` (nobody listens there, or the peer's limits),
        ``TimeoutError``, :class:`DestinationLookupError`, ``ConnectionError`` when the
        session is closed; ``TypeError``/``ValueError`` at the call for a port that is not an
        int 0-65535 or text that is no destination."""
        check_port(port)
        check_port(local_port, "local_port")
        loop = self.loop
        deadline = None if timeout is None else loop.time() + timeout
        lookup_timeout = 30.0 if timeout is None else timeout
        destination = await self.resolve(dest, timeout=lookup_timeout)
        self._client()
        opts = stream_options(self.options, options)
        now = loop.time()
        sid = self._manager.connect(
            destination, port=port, local_port=local_port, now=now, options=opts
        )
        protocol = protocol_factory()
        transport = StreamTransport(self, sid, protocol, destination, local_port, port)
        self._table.add(transport)
        fut: asyncio.Future[StreamTransport] = loop.create_future()
        self._table.connecting(sid, fut)
        self._syn_owner = sid
        try:
            self._pump.run()
        finally:
            self._syn_owner = None
        remaining = None if deadline is None else max(0.0, deadline - loop.time())
        try:
            await asyncio.wait_for(asyncio.shield(fut), remaining)
        except TimeoutError:
            if fut.done():  # the core's connect timeout (ConnectionFailed)
                self._table.pop(sid)
                raise
            self._abandon(sid)
            raise TimeoutError(
                f"connect to {destination.b32} port {port} timed out after {timeout:g} s"
            ) from None
        except asyncio.CancelledError:
            self._abandon(sid)
            raise
        except OSError:
            self._table.pop(sid)
            raise
        return transport, protocol

    def _abandon(self, sid: int) -> None:
        self._table.stop_connecting(sid)
        transport = self._table.pop(sid)
        if transport is not None:
            transport.abandon()
        self._manager.reset(sid, self.loop.time())
        self.schedule_flush()

    async def open_connection(
        self,
        dest: Destination | str,
        port: int = 0,
        *,
        local_port: int = 0,
        options: OptionsArg = None,
        timeout: float | None = None,
        limit: int = 2**16,
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Like :func:`asyncio.open_connection`: open a stream and return a real
        :class:`asyncio.StreamReader`/:class:`asyncio.StreamWriter` pair. Same arguments and
        errors as :meth:`create_connection`."""
        reader = asyncio.StreamReader(limit=limit, loop=self.loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=self.loop)
        transport, _ = await self.create_connection(
            lambda: protocol,
            dest,
            port,
            local_port=local_port,
            options=options,
            timeout=timeout,
        )
        writer = asyncio.StreamWriter(transport, protocol, reader, self.loop)
        return reader, writer

    async def create_server(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        port: int = 0,
        *,
        backlog: int = DEFAULT_BACKLOG,
        start_serving: bool = True,
    ) -> StreamServer:
        """Accept streams to ``port`` (0 = any port without its own server) with a protocol
        from ``protocol_factory`` each. Raises ``OSError`` when the port already has one,
        ``TypeError``/``ValueError`` for a port that is not an int 0-65535."""
        check_port(port)
        self._client()
        server = StreamServer(self, protocol_factory, port, backlog)
        if start_serving:
            await server.start_serving()
        return server

    async def start_server(
        self,
        client_connected_cb: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any],
        port: int = 0,
        *,
        limit: int = 2**16,
        backlog: int = DEFAULT_BACKLOG,
        start_serving: bool = True,
    ) -> StreamServer:
        """Like :func:`asyncio.start_server`: ``client_connected_cb(reader, writer)`` (plain or
        coroutine function) runs for each accepted stream."""
        loop = self.loop

        def factory() -> asyncio.StreamReaderProtocol:
            reader = asyncio.StreamReader(limit=limit, loop=loop)
            return asyncio.StreamReaderProtocol(reader, client_connected_cb, loop=loop)

        return await self.create_server(factory, port, backlog=backlog, start_serving=start_serving)

    async def create_datagram_endpoint(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], *, port: int = 0, kind: str
    ) -> tuple[DatagramTransport, asyncio.BaseProtocol]:
        """Like ``loop.create_datagram_endpoint``: bind ``kind`` (repliable, raw, datagram2,
        datagram3) on ``port`` (0: any other port); OSError if bound, ValueError for a kind."""
        return self.datagrams.create(protocol_factory, port, kind)

    async def open_datagram_endpoint(self, *, port: int = 0, kind: str) -> DatagramEndpoint:
        """The awaitable form of :meth:`create_datagram_endpoint` (``recv``/``send``)."""
        return self.datagrams.endpoint(port, kind)

    async def ping(
        self,
        dest: Destination | str,
        *,
        timeout: float = 30.0,
        count: int | None = None,
        interval: float | None = None,
    ) -> float:
        """Ping ``dest`` (signed ECHO) like ping(8) and return the round-trip time in seconds
        of the first pong.

        Queues a new ping every ``interval`` seconds (default ``min(1, timeout / 4)``), at
        most ``count`` of them (default: as many as fit), until one is answered or ``timeout``
        (lookup included) is over; a lost ping or pong costs one interval, not the call.
        Raises ``TimeoutError`` naming the destination and how many pings went unanswered
        (peers may disable answering pings), :class:`DestinationLookupError` for unknown
        names, ``ValueError`` for a ``count`` below 1 or an ``interval`` not above 0."""
        if count is not None and count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        if interval is not None and not interval > 0:
            raise ValueError(f"interval must be above 0, not {interval}")
        deadline = self.loop.time() + timeout
        destination = await self.resolve(dest, timeout=timeout)
        self._client()
        every = interval if interval is not None else max(0.001, min(1.0, timeout / 4))
        pings = Pings(self.loop, self._manager, self._table, self._pump.run)
        return await pings.run(destination, deadline, timeout, count, every)

    async def close(self, *, timeout: float = 5.0) -> None:
        """Drain and end the session within ``timeout`` seconds in all. Idempotent.

        Stops the servers, queues a CLOSE on every stream and sends every owed ACK at once,
        waits for the CLOSE handshakes until the deadline, RESETs what is left (those packets
        are written before the I2CP session is destroyed), then asks the router to end the
        session for what remains of ``timeout`` (the socket is closed at the deadline whether
        or not the router confirmed)."""
        if self._closed:
            return
        loop = self.loop
        deadline = loop.time() + max(0.0, timeout)
        for server in list(self._servers.values()):
            server.close()
        self.datagrams.close_all()
        waiters: list[asyncio.Future[None]] = []
        for transport in self._table.transports():
            if transport.is_lost:
                continue
            waiters.append(transport.when_lost())
            transport.close()
        self._table.fail_connects(ConnectionError(f"session {self.b32} is closing"))
        self._pump.run()  # the CLOSEs and owed ACKs go out now, not at the next iteration
        pending = [w for w in waiters if not w.done()]
        if pending and self._lost_reason is None:
            await asyncio.wait(pending, timeout=max(0.0, deadline - loop.time()))
        for transport in self._table.transports():
            transport.abort()
        for sid in self._manager.stream_ids:
            self._manager.reset(sid, loop.time())
        self._pump.run()
        self._closed = True
        self._pump.stop()
        self._outbound.cancel()
        self._fail_all(f"session {self.b32} is closed")
        if self.pcap is not None:
            self.pcap.close()
        if self._i2cp is not None:
            await self._i2cp.close(timeout=max(0.0, deadline - loop.time()))

    async def wait_closed(self) -> None:
        """Wait until the I2CP session has ended."""
        if self._i2cp is not None:
            await self._i2cp.wait_closed()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Session {self.b32} {state} streams={len(self._table)}>"
