"""Serve an aiohttp web application as an eepsite: ``await serve_aiohttp(app, session)``.

aiohttp's own request handler runs on each accepted stream. ``request.remote`` is the
client's b32 address, ``request.transport.get_extra_info("peer_destination")`` its
Destination, and the request headers carry the ``X-I2P-Dest*`` headers of
:mod:`i2p_streaming.web.headers` (client-sent copies removed first).

Needs the ``[aiohttp]`` extra.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from i2p_streaming.aio import Session, StreamServer
from i2p_streaming.web.headers import header_values, is_i2p_header
from i2p_streaming.web.names import missing_extra
from i2p_streaming.web.options import warn_if_slow

try:
    from aiohttp import web
    from multidict import CIMultiDict
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        missing_extra("i2p_streaming.web.aiohttp_server", "aiohttp", "aiohttp")
    ) from exc

__all__ = ["AiohttpServer", "i2p_headers_middleware", "serve_aiohttp"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def i2p_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp middleware: the request's ``X-I2P-Dest*`` headers replaced by the true ones
    for the stream's peer (added by :func:`serve_aiohttp`; usable on its own)."""
    transport = request.transport
    peer = None if transport is None else transport.get_extra_info("peer_destination")
    headers = CIMultiDict(
        (name, value) for name, value in request.headers.items() if not is_i2p_header(name)
    )
    if peer is not None:
        headers.extend(header_values(peer))
    return await handler(request.clone(headers=headers))


class AiohttpServer:
    """An aiohttp application served on one port of a session (see :func:`serve_aiohttp`)."""

    def __init__(self, app_or_runner: web.Application | web.AppRunner, session: Session) -> None:
        if isinstance(app_or_runner, web.Application):
            app = app_or_runner
            self.runner = web.AppRunner(app, shutdown_timeout=5.0)
        elif isinstance(app_or_runner, web.AppRunner):
            app = app_or_runner.app
            self.runner = app_or_runner
        else:
            raise TypeError(
                f"serve_aiohttp takes a web.Application or web.AppRunner, "
                f"not {type(app_or_runner).__name__}"
            )
        if app.frozen:
            raise ValueError(
                "the aiohttp application is set up already: pass it (or its AppRunner) to "
                "serve_aiohttp before setup(), so the X-I2P-Dest headers can be set"
            )
        if i2p_headers_middleware not in app.middlewares:
            app.middlewares.insert(0, i2p_headers_middleware)
        self.session = session
        self.stream_server: StreamServer | None = None

    async def start(self, port: int = 80) -> None:
        """Set the runner up (on_startup handlers) and accept streams on ``port``."""
        warn_if_slow(self.session.options, f"aiohttp server on port {port}")
        await self.runner.setup()
        server = self.runner.server
        assert server is not None
        self.stream_server = await self.session.create_server(server, port)

    async def stop(self) -> None:
        """Stop accepting, let open requests finish (the runner's ``shutdown_timeout``),
        close the connections and run the on_shutdown/on_cleanup handlers. Idempotent."""
        if self.stream_server is not None:
            self.stream_server.close()
            self.stream_server = None
        await self.runner.cleanup()


async def serve_aiohttp(
    app_or_runner: web.Application | web.AppRunner,
    session: Session,
    port: int = 80,
    *,
    ready: asyncio.Event | None = None,
) -> None:
    """Serve an aiohttp application (or a runner not yet set up) on ``session``'s ``port``
    until cancelled, then shut it down cleanly. ``ready`` is set once streams are accepted."""
    server = AiohttpServer(app_or_runner, session)
    await server.start(port)
    try:
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()  # until cancelled
    finally:
        await server.stop()
