"""Blocking datagram endpoints: :class:`~i2p_streaming.aio.DatagramEndpoint` driven from any
thread through the session's loop thread.

``ep = session.datagram_endpoint(port=5000, kind="repliable")``, then
``ep.sendto(data, (dest, port))`` and ``got = ep.recv(timeout=10)`` (a
:class:`~i2p_streaming.datagrams.DatagramReceived`: ``got.data``, ``got.sender``,
``got.src_port``), or ``data, (sender, port) = ep.recvfrom()`` like a UDP socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

from i2p_streaming.aio.datagrams import DatagramEndpoint
from i2p_streaming.data import Destination
from i2p_streaming.datagrams import DatagramKind, DatagramReceived

__all__ = ["SyncDatagramEndpoint"]

_T = TypeVar("_T")


class SyncDatagramEndpoint:
    """One bound kind and port of a :class:`~i2p_streaming.sync.SyncSession` (blocking)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, endpoint: DatagramEndpoint) -> None:
        self._loop = loop
        self._endpoint = endpoint

    def _run(self, coro: Coroutine[Any, Any, _T], timeout: float | None = None) -> _T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            coro.close()
            raise RuntimeError("blocking datagram call from the session's loop thread")
        if self._loop.is_closed():
            coro.close()
            raise ConnectionError("the session is closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def port(self) -> int:
        """The bound port (0: every port without an endpoint of its own)."""
        return self._endpoint.port

    @property
    def kind(self) -> DatagramKind:
        return self._endpoint.kind

    @property
    def dropped(self) -> int:
        """Datagrams dropped because :meth:`recv` did not keep up."""
        return self._endpoint.dropped

    def recv(self, timeout: float | None = None) -> DatagramReceived:
        """The next datagram; ``TimeoutError`` after ``timeout``, ``ConnectionError`` once
        closed."""
        return self._run(self._endpoint.recv(timeout))

    def recvfrom(self, timeout: float | None = None) -> tuple[bytes, tuple[str | None, int]]:
        """``(data, (sender, port))`` like ``socket.recvfrom`` (sender None for raw)."""
        got = self.recv(timeout)
        return got.data, got.address

    def sendto(self, data: bytes, address: tuple[Destination | str, int]) -> None:
        """Send ``data`` to ``(dest, port)`` (names looked up first: lookup errors raise).
        Raises :class:`~i2p_streaming.datagrams.DatagramTooLarge` for a payload over the
        limit."""
        dest, port = address
        self._run(self._endpoint.send(data, dest, port))

    def close(self) -> None:
        """Unbind (idempotent)."""
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._endpoint.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
