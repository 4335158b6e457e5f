"""The asyncio session: one local destination, one I2CP client, one StreamManager, one timer.

This is the thin I/O shell over the sans-I/O :class:`~i2p_streaming.streaming.StreamManager`:
every input (a payload from the router, an application call, the timer) is followed — once per
loop iteration, so a burst of payloads gets one flush — by draining ``payloads_to_send``
(sent with ``I2CPClient.send_nowait``: SYNs compressed, data stored), ``next_event`` and
re-arming the single ``loop.call_at`` timer from ``get_timer``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import time
from collections.abc import Callable, Generator, Mapping
from types import TracebackType
from typing import Any, Self

from i2p_streaming.aio.config import (
    KeysArg,
    OptionsArg,
    load_keys,
    looks_like_base64_destination,
    parse_router,
    split_options,
    stream_options,
    tls_context,
)
from i2p_streaming.aio.i2cp_client import I2CPClient
from i2p_streaming.aio.i2cp_types import SessionLost, SessionRestored
from i2p_streaming.aio.server import StreamServer
from i2p_streaming.aio.transport import StreamTransport
from i2p_streaming.data import Destination, PrivateKeys
from i2p_streaming.errors import DestinationLookupError, I2CPError
from i2p_streaming.i2cp import PROTO_STREAMING
from i2p_streaming.i2cp import events as i2cp_events
from i2p_streaming.streaming import (
    ConnectionClosed,
    ConnectionEstablished,
    ConnectionFailed,
    ConnectionReset,
    DataReceived,
    IncomingConnection,
    OutgoingPacket,
    PeerClosed,
    PingAnswered,
    PingTimeout,
    SendBufferAvailable,
    StreamManager,
    StreamOptions,
)

__all__ = ["Session", "create_session"]

log = logging.getLogger("i2p_streaming.aio")

#: MessageStatus codes Java treats as soft failures of the opening SYN (only logged).
_SOFT_FAILURES = frozenset({3, 5, 7, 14, 16, 21})
_LOOKUP_CACHE_SIZE = 256
_PROTOCOLS = (PROTO_STREAMING, 0)


class Session:
    """Streams to and from one local destination. Create with :func:`create_session`."""

    def __init__(self, keys: PrivateKeys, options: StreamOptions) -> None:
        self.loop = asyncio.get_running_loop()
        self.keys = keys
        # read credit: transports report what their protocols read (flow control, choke)
        self.manager = StreamManager(
            keys, options, epoch_offset=time.time() - self.loop.time(), auto_consume=False
        )
        self.client: I2CPClient | None = None
        #: Transports to revisit after each flush (overflow, paused writing, closing).
        self.watched: set[StreamTransport] = set()
        self._streams: dict[int, StreamTransport] = {}
        self._connecting: dict[int, asyncio.Future[StreamTransport]] = {}
        self._pings: dict[int, asyncio.Future[float]] = {}
        self._servers: dict[int, StreamServer] = {}
        self._lookups: dict[str, Destination] = {}
        self._flush_scheduled = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._syn_owner: int | None = None
        self._status_tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._lost_reason: str | None = None

    # ------------------------------------------------------------------ properties
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
        return self.manager.options

    @property
    def is_closed(self) -> bool:
        return self._closed

    def _client(self) -> I2CPClient:
        if self._closed or self.client is None:
            raise ConnectionError(f"session {self.b32} is closed")
        if self._lost_reason is not None:
            raise ConnectionError(f"session {self.b32} lost its router: {self._lost_reason}")
        return self.client

    # ------------------------------------------------------------------ the I/O shell
    def on_payload(self, event: i2cp_events.PayloadReceived) -> None:
        """I2CP callback: hand a streaming payload to the manager (flush once per batch)."""
        if event.protocol not in _PROTOCOLS:
            return
        self.manager.receive_payload(event.data, event.src_port, event.dst_port, self.loop.time())
        self.schedule_flush()

    def on_session_event(self, event: SessionLost | SessionRestored) -> None:
        """I2CP callback: the router session ended; every stream and waiter fails."""
        if isinstance(event, SessionLost):
            self._lost_reason = event.reason
            self._fail_all(f"I2CP session with router {event.router} lost: {event.reason}")

    def schedule_flush(self) -> None:
        """Run :meth:`flush` once at the end of this loop iteration."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send what the manager has, dispatch its events, re-arm the timer."""
        self._flush_scheduled = False
        manager = self.manager
        client = self.client
        packets = manager.payloads_to_send(self.loop.time())
        if packets and client is not None and not self._closed:
            self._send(client, packets)
        while (event := manager.next_event()) is not None:
            self._dispatch(event)
        if self.watched:
            for transport in list(self.watched):
                transport._after_flush()
        self._arm_timer()

    def _send(self, client: I2CPClient, packets: list[OutgoingPacket]) -> None:
        """Hand this flush's packets to I2CP in one socket write (SYNs compressed, data
        stored); an opening SYN that wants a delivery status goes on its own."""
        try:
            batch = []
            for p in packets:
                if p.want_status:
                    self._send_syn_with_status(client, p)
                else:
                    batch.append(
                        (p.destination, p.data, PROTO_STREAMING, p.src_port, p.dst_port, p.is_syn)
                    )
            if batch:
                client.send_many_nowait(batch)
        except (I2CPError, ConnectionError) as exc:
            log.debug("session %s: send failed: %s", self.b32, exc)

    def _send_syn_with_status(self, client: I2CPClient, p: OutgoingPacket) -> None:
        owner = self._syn_owner

        async def send() -> None:
            result = await client.send(
                p.destination,
                p.data,
                protocol=PROTO_STREAMING,
                src_port=p.src_port,
                dst_port=p.dst_port,
                compress=True,
                timeout=self.options.connect_timeout,
            )
            code = result.status
            if result.delivered or code is None or code in _SOFT_FAILURES:
                return
            fut = self._connecting.get(owner) if owner is not None else None
            if owner is not None and fut is not None and not fut.done():
                self.manager.reset(owner, self.loop.time())
                fut.set_exception(
                    ConnectionRefusedError(
                        f"cannot reach {p.destination.b32} port {p.dst_port}: the router "
                        f"reported {result.reason} (status {code})"
                    )
                )
                self.schedule_flush()

        task = self.loop.create_task(send())
        self._status_tasks.add(task)
        task.add_done_callback(self._status_done)

    def _status_done(self, task: asyncio.Task[None]) -> None:
        self._status_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("session %s: SYN status: %s", self.b32, task.exception())

    def _arm_timer(self) -> None:
        deadline = self.manager.get_timer()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is not None and not self._closed:
            self._timer = self.loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self.manager.handle_timer(self.loop.time())
        self.flush()

    def _dispatch(self, event: object) -> None:
        if isinstance(event, DataReceived):
            t = self._streams.get(event.stream_id)
            if t is not None:
                t._data(event.data)
        elif isinstance(event, SendBufferAvailable):
            t = self._streams.get(event.stream_id)
            if t is not None:
                t._after_flush()
        elif isinstance(event, IncomingConnection):
            self._incoming(event)
        elif isinstance(event, ConnectionEstablished):
            self._established(event.stream_id)
        elif isinstance(event, PeerClosed):
            t = self._streams.get(event.stream_id)
            if t is not None:
                t._peer_closed()
        elif isinstance(event, ConnectionClosed):
            t = self._streams.get(event.stream_id)
            if t is not None:
                t._ended(None)
        elif isinstance(event, ConnectionReset):
            self._reset(event)
        elif isinstance(event, ConnectionFailed):
            self._failed(event)
        elif isinstance(event, PingAnswered | PingTimeout):
            fut = self._pings.pop(event.ping_id, None)
            if fut is not None and not fut.done():
                if isinstance(event, PingAnswered):
                    fut.set_result(event.rtt)
                else:
                    fut.set_exception(TimeoutError("no answer to the ping"))

    def _incoming(self, event: IncomingConnection) -> None:
        server = self._servers.get(event.local_port) or self._servers.get(0)
        if server is None:
            self.manager.reset(event.stream_id, self.loop.time())
            return
        try:
            protocol = server.protocol_factory()
        except Exception:
            log.exception("session %s: protocol factory failed", self.b32)
            self.manager.reset(event.stream_id, self.loop.time())
            return
        transport = StreamTransport(
            self, event.stream_id, protocol, event.peer, event.local_port, event.remote_port
        )
        self._streams[event.stream_id] = transport
        transport._connection_made()

    def _established(self, stream_id: int) -> None:
        fut = self._connecting.pop(stream_id, None)
        transport = self._streams.get(stream_id)
        if transport is None:
            return
        if fut is None or fut.done():  # the caller gave up meanwhile
            transport.abort()
            return
        transport._connection_made()
        fut.set_result(transport)

    def _reset(self, event: ConnectionReset) -> None:
        t = self._streams.get(event.stream_id)
        if t is None:
            return
        who = "the peer reset" if event.by_peer else "reset"
        t._ended(
            ConnectionResetError(
                f"stream to {t.peer.b32} port {t.peer_port}: {who} the connection ({event.reason})"
            )
        )

    def _failed(self, event: ConnectionFailed) -> None:
        transport = self._streams.pop(event.stream_id, None)
        fut = self._connecting.pop(event.stream_id, None)
        if fut is None or fut.done():
            return
        exc: OSError = (
            ConnectionRefusedError(event.reason) if event.refused else TimeoutError(event.reason)
        )
        if transport is not None:
            transport._lost = True
        fut.set_exception(exc)

    def _fail_all(self, reason: str) -> None:
        for fut in list(self._connecting.values()) + list(self._pings.values()):
            if not fut.done():
                fut.set_exception(ConnectionResetError(reason))
        self._connecting.clear()
        self._pings.clear()
        for transport in list(self._streams.values()):
            transport._ended(ConnectionResetError(reason))
        self._streams.clear()

    def forget(self, transport: StreamTransport) -> None:
        """A transport has ended: stop routing events to it."""
        if self._streams.get(transport.stream_id) is transport:
            del self._streams[transport.stream_id]
        self.watched.discard(transport)

    def register_server(self, server: StreamServer) -> None:
        """Listen on ``server.port`` (used by :class:`StreamServer`)."""
        current = self._servers.get(server.port)
        if current is not None and current is not server:
            raise OSError(f"port {server.port} of {self.b32} already has a server")
        self._servers[server.port] = server
        self.manager.listen(server.port, backlog=server.backlog)

    def unregister_server(self, server: StreamServer) -> None:
        if self._servers.get(server.port) is server:
            del self._servers[server.port]
            self.manager.unlisten(server.port)

    # ------------------------------------------------------------------ public API
    async def resolve(self, dest: Destination | str, *, timeout: float = 30.0) -> Destination:
        """A Destination from a Destination, a base64 destination, a ``.b32.i2p`` address or
        a host name the router knows (looked up over I2CP, cached).

        Raises :class:`DestinationLookupError` for unknown names, ``TimeoutError`` when the
        router does not answer within ``timeout``."""
        if isinstance(dest, Destination):
            return dest
        name = dest.strip()
        parsed = looks_like_base64_destination(name)
        if parsed is not None:
            return parsed
        cached = self._lookups.get(name.lower())
        if cached is not None:
            return cached
        client = self._client()
        try:
            found = await asyncio.wait_for(client.lookup(name, timeout=timeout + 1.0), timeout)
        except TimeoutError:
            raise TimeoutError(f"lookup of {name} timed out after {timeout:g} s") from None
        except DestinationLookupError as exc:
            raise DestinationLookupError(
                f"cannot find {name}: {exc.reason}", router=exc.router, reason=exc.reason
            ) from None
        except ValueError as exc:
            raise DestinationLookupError(f"cannot look up {name!r}: {exc}") from None
        if len(self._lookups) >= _LOOKUP_CACHE_SIZE:
            self._lookups.pop(next(iter(self._lookups)))
        self._lookups[name.lower()] = found
        return found

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
        session is closed."""
        loop = self.loop
        deadline = None if timeout is None else loop.time() + timeout
        lookup_timeout = 30.0 if timeout is None else timeout
        destination = await self.resolve(dest, timeout=lookup_timeout)
        self._client()
        opts = stream_options(self.options, options)
        now = loop.time()
        sid = self.manager.connect(
            destination, port=port, local_port=local_port, now=now, options=opts
        )
        protocol = protocol_factory()
        transport = StreamTransport(self, sid, protocol, destination, local_port, port)
        self._streams[sid] = transport
        fut: asyncio.Future[StreamTransport] = loop.create_future()
        self._connecting[sid] = fut
        self._syn_owner = sid
        try:
            self.flush()
        finally:
            self._syn_owner = None
        remaining = None if deadline is None else max(0.0, deadline - loop.time())
        try:
            await asyncio.wait_for(asyncio.shield(fut), remaining)
        except TimeoutError:
            if fut.done():  # the core's connect timeout (ConnectionFailed)
                self._streams.pop(sid, None)
                raise
            self._abandon(sid)
            raise TimeoutError(
                f"connect to {destination.b32} port {port} timed out after {timeout:g} s"
            ) from None
        except asyncio.CancelledError:
            self._abandon(sid)
            raise
        except OSError:
            self._streams.pop(sid, None)
            raise
        return transport, protocol

    def _abandon(self, sid: int) -> None:
        self._connecting.pop(sid, None)
        transport = self._streams.pop(sid, None)
        if transport is not None:
            transport._lost = True
        self.manager.reset(sid, self.loop.time())
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
        backlog: int = 64,
        start_serving: bool = True,
    ) -> StreamServer:
        """Accept streams to ``port`` (0 = any port without its own server) with a protocol
        from ``protocol_factory`` each. Raises ``OSError`` when the port already has one."""
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
        backlog: int = 64,
        start_serving: bool = True,
    ) -> StreamServer:
        """Like :func:`asyncio.start_server`: ``client_connected_cb(reader, writer)`` (plain or
        coroutine function) runs for each accepted stream."""
        loop = self.loop

        def factory() -> asyncio.StreamReaderProtocol:
            reader = asyncio.StreamReader(limit=limit, loop=loop)
            return asyncio.StreamReaderProtocol(reader, client_connected_cb, loop=loop)

        return await self.create_server(factory, port, backlog=backlog, start_serving=start_serving)

    async def ping(self, dest: Destination | str, *, timeout: float = 30.0) -> float:
        """Ping ``dest`` (signed ECHO) and return the round-trip time in seconds.

        Raises ``TimeoutError`` when no pong arrives within ``timeout`` (peers may disable
        answering pings), :class:`DestinationLookupError` for unknown names."""
        loop = self.loop
        deadline = loop.time() + timeout
        destination = await self.resolve(dest, timeout=timeout)
        self._client()
        remaining = max(0.001, deadline - loop.time())
        ping_id = self.manager.ping(destination, loop.time(), remaining)
        fut: asyncio.Future[float] = loop.create_future()
        self._pings[ping_id] = fut
        self.flush()
        try:
            return await asyncio.wait_for(fut, remaining + 1.0)
        except TimeoutError:
            raise TimeoutError(
                f"no answer to a ping of {destination.b32} within {timeout:g} s"
            ) from None
        finally:
            self._pings.pop(ping_id, None)

    async def close(self, *, timeout: float = 5.0) -> None:
        """Close every stream cleanly (CLOSE; wait up to ``timeout`` for the ends, then
        RESET what is left), stop the servers, then end the I2CP session. Idempotent."""
        if self._closed:
            return
        for server in list(self._servers.values()):
            server.close()
        streams = list(self._streams.values())
        waiters: list[asyncio.Future[None]] = []
        for transport in streams:
            if transport._lost:
                continue
            fut: asyncio.Future[None] = self.loop.create_future()
            waiters.append(fut)
            self._watch_end(transport, fut)
            transport.close()
        for fut_c in self._connecting.values():
            if not fut_c.done():
                fut_c.set_exception(ConnectionError(f"session {self.b32} is closing"))
        if waiters and self._lost_reason is None:
            await asyncio.wait(waiters, timeout=timeout)
        for transport in list(self._streams.values()):
            transport.abort()
        for sid in self.manager.stream_ids:
            self.manager.reset(sid, self.loop.time())
        self.flush()
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for task in list(self._status_tasks):
            task.cancel()
        self._fail_all(f"session {self.b32} is closed")
        if self.client is not None:
            await self.client.close()

    def _watch_end(self, transport: StreamTransport, fut: asyncio.Future[None]) -> None:
        original = transport._lose

        def lose(exc: Exception | None) -> None:
            original(exc)
            if not fut.done():
                fut.set_result(None)

        transport._lose = lose  # type: ignore[method-assign]

    async def wait_closed(self) -> None:
        """Wait until the I2CP session has ended."""
        if self.client is not None:
            await self.client.wait_closed()

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
        return f"<Session {self.b32} {state} streams={len(self._streams)}>"


async def _open_session(
    router: str | tuple[str, int],
    keys: KeysArg,
    options: OptionsArg,
    tls: bool | ssl.SSLContext,
    username: str | None,
    password: str | None,
    create_keys: bool,
    timeout: float,
) -> Session:
    host, port = parse_router(router)
    private = load_keys(keys, create=create_keys)
    i2cp_options, stream_opts = split_options(options)
    session = Session(private, stream_opts)
    session.client = await I2CPClient.connect(
        host,
        port,
        keys=private,
        options=i2cp_options,
        ssl=tls_context(tls),
        timeout=timeout,
        username=username,
        password=password,
        on_payload=session.on_payload,
        on_session_event=session.on_session_event,
    )
    session.schedule_flush()
    return session


class _SessionOpener:
    """What :func:`create_session` returns: await it, or use it with ``async with``."""

    def __init__(self, coro_factory: Callable[[], Any]) -> None:
        self._factory = coro_factory
        self._session: Session | None = None

    def __await__(self) -> Generator[Any, None, Session]:
        session: Session = yield from self._factory().__await__()
        return session

    async def __aenter__(self) -> Session:
        self._session = await self._factory()
        return self._session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()


def create_session(
    router: str | tuple[str, int] = "127.0.0.1:7654",
    *,
    keys: PrivateKeys | str | os.PathLike[str] | None = None,
    options: Mapping[str, str] | StreamOptions | None = None,
    tls: bool | ssl.SSLContext = False,
    username: str | None = None,
    password: str | None = None,
    create_keys: bool = False,
    timeout: float = 60.0,
) -> _SessionOpener:
    """Open an I2CP session on ``router`` and return a :class:`Session` ready for streams.

    Use ``session = await create_session(...)`` (then ``await session.close()``), or
    ``async with create_session(...) as session:``. ``keys``: None (fresh transient
    destination), :class:`PrivateKeys`, or a key-file path (created when missing only if
    ``create_keys``). ``options``: ``i2cp.*``/``inbound.*``/``outbound.*`` go to the router,
    ``i2p.streaming.*`` become the session's :class:`StreamOptions` (or pass one). ``tls``:
    True (no certificate check) or an ``ssl.SSLContext``. Raises :class:`I2CPError`
    subclasses (router unreachable, session refused), ``ValueError`` for bad options,
    ``FileNotFoundError`` for a missing key file."""
    return _SessionOpener(
        lambda: _open_session(router, keys, options, tls, username, password, create_keys, timeout)
    )
