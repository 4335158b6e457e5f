"""Serve any ASGI application (FastAPI, Starlette, Quart, Django's ASGI handler) as an eepsite.

uvicorn's own HTTP protocol classes (h11, or httptools when installed) and WebSocket
protocols run on our streams: each accepted stream is a
:class:`~i2p_streaming.aio.StreamTransport`, so keep-alive, pipelining, flow control,
WebSockets, lifespan events and graceful shutdown are uvicorn's. The ASGI scope's ``client``
is ``(peer b32, peer port)``; every request carries the ``X-I2P-Dest*`` headers of
:mod:`i2p_streaming.web.headers`, and any the client sent are removed first.

Needs the ``[asgi]`` extra (uvicorn).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from i2p_streaming.aio import Session, StreamServer, StreamTransport
from i2p_streaming.data import Destination
from i2p_streaming.web.headers import asgi_headers
from i2p_streaming.web.names import missing_extra
from i2p_streaming.web.options import warn_if_slow

try:
    import uvicorn
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(missing_extra("i2p_streaming.web.asgi", "uvicorn", "asgi")) from exc

__all__ = ["ASGIServer", "PeerTable", "serve_asgi"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class PeerTable:
    """The Destinations of the peers with an open stream, by b32 address.

    The ASGI scope names the client by its b32 only; the full Destination (for
    ``X-I2P-DestB64``) is looked up here. An entry lives while at least one stream from that
    peer is open, so the table holds at most one entry per open stream."""

    def __init__(self) -> None:
        self._peers: dict[str, tuple[Destination, int]] = {}

    def add(self, peer: Destination) -> None:
        """Count one more open stream from ``peer``."""
        _, count = self._peers.get(peer.b32, (peer, 0))
        self._peers[peer.b32] = (peer, count + 1)

    def discard(self, peer: Destination) -> None:
        """Count one stream from ``peer`` less (forgotten at zero)."""
        entry = self._peers.get(peer.b32)
        if entry is None:
            return
        if entry[1] <= 1:
            del self._peers[peer.b32]
        else:
            self._peers[peer.b32] = (entry[0], entry[1] - 1)

    def get(self, b32: str) -> Destination | None:
        """The Destination of an open stream's peer, or None."""
        entry = self._peers.get(b32)
        return None if entry is None else entry[0]

    def __len__(self) -> int:
        return len(self._peers)


class _PeerTap(asyncio.Protocol):
    """Records the peer of a new stream, then hands the transport to uvicorn's protocol (it
    takes no further part: the transport's protocol is uvicorn's from then on)."""

    def __init__(self, inner: asyncio.Protocol, peers: PeerTable) -> None:
        self._inner = inner
        self._peers = peers

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, StreamTransport):
            peer = transport.peer
            self._peers.add(peer)
            transport.when_lost().add_done_callback(lambda _: self._peers.discard(peer))
        transport.set_protocol(self._inner)
        self._inner.connection_made(transport)


class _I2PHeaders:
    """ASGI middleware: the true ``X-I2P-Dest*`` headers on every HTTP and WebSocket scope."""

    def __init__(self, app: ASGIApp, peers: PeerTable) -> None:
        self._app = app
        self._peers = peers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") in ("http", "websocket"):
            client = scope.get("client")
            peer = self._peers.get(client[0]) if client else None
            scope = dict(scope, headers=asgi_headers(scope.get("headers", ()), peer))
        await self._app(scope, receive, send)


class _Config(uvicorn.Config):
    """uvicorn's configuration with the header middleware outside every middleware uvicorn
    adds when it loads the application."""

    def __init__(self, app: Any, peers: PeerTable, **options: Any) -> None:
        super().__init__(app, **options)
        self.peers = peers

    def load(self) -> None:
        super().load()
        self.loaded_app = _I2PHeaders(self.loaded_app, self.peers)


class _Uvicorn(uvicorn.Server):
    """uvicorn's server with its listening socket replaced by a session's stream server."""

    def __init__(self, config: _Config, session: Session, port: int) -> None:
        super().__init__(config)
        self.session = session
        self.port = port
        self.peers = config.peers
        self.stream_server: StreamServer | None = None

    async def begin(self) -> None:
        """Run the lifespan startup, then start accepting."""
        self.lifespan = self.config.lifespan_class(self.config)
        await self.startup()

    def request_exit(self) -> None:
        """Make the main loop end (then :meth:`shutdown`)."""
        self.should_exit = True

    def stop_accepting(self) -> None:
        """Close the stream server (new streams are refused; open ones continue)."""
        if self.stream_server is not None:
            self.stream_server.close()

    async def startup(self, sockets: Any = None) -> None:
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            raise RuntimeError("the ASGI application failed its lifespan startup")
        config = self.config

        def create_protocol() -> asyncio.Protocol:
            inner = config.http_protocol_class(  # type: ignore[call-arg]
                config=config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
            )
            return _PeerTap(inner, self.peers)

        try:
            self.stream_server = await self.session.create_server(
                create_protocol, self.port, backlog=config.backlog
            )
        except BaseException:
            await self.lifespan.shutdown()
            raise
        self.servers = [self.stream_server]  # type: ignore[list-item]
        self.started = True


class ASGIServer:
    """An ASGI app served on ``session``'s ``port`` (0: every port without a server).

    ``await start()`` runs the lifespan startup and starts accepting; ``await stop()`` stops
    accepting, lets open requests finish (``timeout_graceful_shutdown``), closes the
    connections and runs the lifespan shutdown. ``await serve()`` is start, wait, stop (a
    cancelled ``serve`` still stops gracefully). ``uvicorn_options`` go to
    :class:`uvicorn.Config` (``http="h11"``/``"httptools"``, ``ws=``, ``lifespan=``,
    ``timeout_keep_alive=``, ``limit_concurrency=``, ``log_level=`` …); host, port, sockets
    and TLS options do not apply. ``proxy_headers`` is off unless asked for."""

    def __init__(self, app: Any, session: Session, port: int = 80, **uvicorn_options: Any) -> None:
        for name in ("host", "port", "uds", "fd", "reload", "workers"):
            if name in uvicorn_options:
                raise TypeError(f"serve_asgi takes no {name}= (the server listens on a session)")
        uvicorn_options.setdefault("proxy_headers", False)
        uvicorn_options.setdefault("log_config", None)
        config = _Config(app, PeerTable(), **uvicorn_options)
        config.load()  # a bad app or option fails here, not in start()
        self._server = _Uvicorn(config, session, port)
        self._main: asyncio.Task[None] | None = None
        self.session = session
        self.port = port

    @property
    def started(self) -> bool:
        """True from the end of :meth:`start` (lifespan startup done, accepting)."""
        return self._server.started

    @property
    def address(self) -> tuple[str, int]:
        """(our b32, port)."""
        return (self.session.b32, self.port)

    @property
    def serving(self) -> bool:
        """True while new streams are accepted (from :meth:`start` until :meth:`stop`)."""
        stream_server = self._server.stream_server
        return stream_server is not None and stream_server.is_serving()

    @property
    def connections(self) -> int:
        """Open HTTP and WebSocket connections."""
        return len(self._server.server_state.connections)

    async def start(self) -> None:
        """Run the lifespan startup, then accept streams. Raises ``RuntimeError`` when the
        application failed its startup, ``OSError`` when the port already has a server."""
        if self._main is not None:
            raise RuntimeError("the ASGI server was started already")
        warn_if_slow(self.session.options, f"ASGI server on port {self.port}")
        await self._server.begin()
        self._main = asyncio.create_task(self._server.main_loop(), name="i2p-asgi-main")

    async def stop(self) -> None:
        """Graceful shutdown (see class doc); idempotent."""
        main, self._main = self._main, None
        if main is None:
            return
        self._server.request_exit()
        self._server.stop_accepting()  # at once: the main loop ends within 0.1 s
        with contextlib.suppress(asyncio.CancelledError):
            await main
        await self._server.shutdown()

    async def wait(self) -> None:
        """Wait until the server was told to exit (``should_exit``, e.g. a request limit)."""
        if self._main is not None:
            await asyncio.shield(self._main)

    def exit(self) -> None:
        """Ask the server to stop: :meth:`wait` and :meth:`serve` return after shutdown."""
        self._server.request_exit()

    async def serve(self) -> None:
        """:meth:`start`, run until :meth:`exit` or cancellation, then :meth:`stop`."""
        await self.start()
        try:
            await self.wait()
        finally:
            await self.stop()


async def serve_asgi(app: Any, session: Session, port: int = 80, **uvicorn_options: Any) -> None:
    """Serve the ASGI ``app`` on ``session``'s ``port`` until cancelled (then shut down
    gracefully, lifespan shutdown included). See :class:`ASGIServer` for the options."""
    await ASGIServer(app, session, port, **uvicorn_options).serve()
