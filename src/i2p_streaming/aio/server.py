"""Listening side of the asyncio API: :class:`StreamServer`, shaped like ``asyncio.Server``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from i2p_streaming.aio.session import Session

__all__ = ["StreamServer"]


class StreamServer:
    """Accepts streams for one port of a session (``port`` 0 = every port without a server of
    its own). Made by :meth:`Session.start_server` / :meth:`Session.create_server`; same
    contract as :class:`asyncio.Server` (``close``, ``wait_closed``, ``serve_forever``,
    ``is_serving``, ``async with``). Closing stops accepting; open streams continue."""

    def __init__(
        self,
        session: Session,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        port: int,
        backlog: int,
    ) -> None:
        self._session = session
        self.protocol_factory = protocol_factory
        self.port = port
        self.backlog = backlog
        self._serving = False
        self._closed = session.loop.create_future()
        self._serve_forever: asyncio.Future[None] | None = None

    @property
    def session(self) -> Session:
        return self._session

    @property
    def sockets(self) -> tuple[()]:
        """Always empty: streams have no sockets of their own."""
        return ()

    @property
    def address(self) -> tuple[str, int]:
        """(our b32, port)."""
        return (self._session.destination.b32, self.port)

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._session.loop

    def is_serving(self) -> bool:
        """True while new streams are accepted."""
        return self._serving

    async def start_serving(self) -> None:
        """Start accepting (servers start at creation; kept for asyncio compatibility)."""
        if self._closed.done():
            raise RuntimeError(f"server on port {self.port} is closed")
        if not self._serving:
            self._session.register_server(self)
            self._serving = True

    def close(self) -> None:
        """Stop accepting new streams (peers then get RESET); existing streams stay open."""
        if self._serving:
            self._session.unregister_server(self)
        self._serving = False
        if not self._closed.done():
            self._closed.set_result(None)
        if self._serve_forever is not None and not self._serve_forever.done():
            self._serve_forever.cancel()

    async def wait_closed(self) -> None:
        """Wait until :meth:`close` was called."""
        await asyncio.shield(self._closed)

    async def serve_forever(self) -> None:
        """Accept until cancelled (then close)."""
        if self._serve_forever is not None:
            raise RuntimeError(f"server on port {self.port} is already being awaited")
        if self._closed.done():
            raise RuntimeError(f"server on port {self.port} is closed")
        await self.start_serving()
        self._serve_forever = self._session.loop.create_future()
        try:
            await self._serve_forever
        except asyncio.CancelledError:
            self.close()
            raise
        finally:
            self._serve_forever = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        await self.wait_closed()

    def __repr__(self) -> str:
        return f"<StreamServer {self._session.destination.b32[:16]}… port={self.port}>"
