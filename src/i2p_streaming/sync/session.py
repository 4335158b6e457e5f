"""Blocking sessions: the asyncio :class:`~i2p_streaming.aio.Session` on a private loop thread.

``with i2p_streaming.sync.create_session("127.0.0.1:7654") as session:`` then
``sock = session.connect(dest, port)`` (a :class:`StreamSocket`) or
``listener = session.listen(port)`` and ``conn, (b32, port) = listener.accept()``. Every
method may be called from any thread.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Coroutine, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

from i2p_streaming.aio.opener import create_session as aio_create_session
from i2p_streaming.aio.server import StreamServer
from i2p_streaming.aio.session import Session
from i2p_streaming.data import Destination
from i2p_streaming.streaming import StreamOptions
from i2p_streaming.streaming.manager import DEFAULT_BACKLOG
from i2p_streaming.sync.datagrams import SyncDatagramEndpoint
from i2p_streaming.sync.socket import StreamSocket, SyncProtocol

__all__ = ["Listener", "SyncSession", "create_session"]

_T = TypeVar("_T")
_CLOSED = object()


class _LoopThread:
    """An event loop running forever in a daemon thread; or, given ``loop``, the running
    loop of the calling thread (borrowed: :meth:`stop` leaves it alone)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.owned = loop is None
        if loop is not None:
            self.loop = loop
            self.thread = threading.current_thread()
            return
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(ready,), name="i2p-streaming-loop", daemon=True
        )
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, _T], timeout: float | None = None) -> _T:
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("blocking i2p_streaming.sync call from the session's loop thread")
        if self.loop.is_closed() or not self.thread.is_alive():
            coro.close()
            raise OSError("the session is closed")
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout)
        except TimeoutError:
            fut.cancel()
            raise

    def stop(self) -> None:
        if not self.owned or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10.0)
        if not self.thread.is_alive():
            self.loop.close()


class SyncSession:
    """A blocking session (see module doc). ``destination``/``b32`` are ours; ``aio`` is the
    asyncio :class:`Session` (use it only on :attr:`loop`)."""

    def __init__(self, runner: _LoopThread, session: Session) -> None:
        self._runner = runner
        self.aio = session
        self.loop = runner.loop
        self._closed = False

    @classmethod
    def wrap(cls, session: Session) -> SyncSession:
        """A blocking view of ``session``, made on its running loop (whose thread then keeps
        running it): for code in other threads, such as WSGI handlers. Its methods must not
        be called from the loop's thread; :meth:`close` closes ``session``, not the loop."""
        return cls(_LoopThread(asyncio.get_running_loop()), session)

    @property
    def destination(self) -> Destination:
        return self.aio.destination

    @property
    def b32(self) -> str:
        return self.aio.b32

    def connect(
        self,
        dest: Destination | str,
        port: int = 0,
        *,
        local_port: int = 0,
        timeout: float | None = None,
        options: Mapping[str, str] | StreamOptions | None = None,
    ) -> StreamSocket:
        """Open a stream to ``dest`` (Destination, base64, ``.b32.i2p`` or host name) and
        return a connected :class:`StreamSocket` whose timeout is ``timeout``. Raises
        ``ConnectionRefusedError``, ``TimeoutError``, :class:`DestinationLookupError`."""
        session = self.aio

        async def connect() -> SyncProtocol:
            _, protocol = await session.create_connection(
                SyncProtocol, dest, port, local_port=local_port, options=options, timeout=timeout
            )
            assert isinstance(protocol, SyncProtocol)
            return protocol

        protocol = self._runner.run(connect())
        return StreamSocket(self.loop, protocol, timeout)

    def listen(self, port: int = 0, *, backlog: int = DEFAULT_BACKLOG) -> Listener:
        """Accept streams to ``port`` (0 = any port without a listener of its own)."""
        listener = Listener(self, port, backlog)
        session = self.aio

        async def start() -> StreamServer:
            return await session.create_server(listener.protocol_factory, port, backlog=backlog)

        listener.attach(self._runner.run(start()))
        return listener

    def ping(
        self,
        dest: Destination | str,
        *,
        timeout: float = 30.0,
        count: int | None = None,
        interval: float | None = None,
    ) -> float:
        """Round-trip time to ``dest`` in seconds, retried within ``timeout`` (see
        :meth:`Session.ping`; ``TimeoutError`` when no ping was answered)."""
        return self._runner.run(
            self.aio.ping(dest, timeout=timeout, count=count, interval=interval)
        )

    def datagram_endpoint(self, *, port: int = 0, kind: str) -> SyncDatagramEndpoint:
        """Bind datagrams of ``kind`` (repliable, raw, datagram2, datagram3) on ``port`` (see
        :meth:`Session.create_datagram_endpoint`); a blocking ``recv``/``sendto`` endpoint."""
        endpoint = self._runner.run(self.aio.open_datagram_endpoint(port=port, kind=kind))
        return SyncDatagramEndpoint(self.loop, endpoint)

    def resolve(self, dest: Destination | str, *, timeout: float = 30.0) -> Destination:
        """Look up a name (see :meth:`Session.resolve`)."""
        return self._runner.run(self.aio.resolve(dest, timeout=timeout))

    def close(self, *, timeout: float = 5.0) -> None:
        """Close every stream (bounded by ``timeout``), the I2CP session and the loop thread.
        Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._runner.run(self.aio.close(timeout=timeout), timeout + 10.0)
        finally:
            self._runner.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Listener:
    """Accepts streams on one port of a :class:`SyncSession` (like a listening socket)."""

    def __init__(self, session: SyncSession, port: int, backlog: int) -> None:
        self.session = session
        self.port = port
        self._queue: queue.Queue[Any] = queue.Queue()
        self._server: StreamServer | None = None
        self._timeout: float | None = None
        self._closed = False
        self._lock = threading.Lock()  # orders _on_made (loop thread) against close()

    def protocol_factory(self) -> SyncProtocol:
        """A protocol for one arriving stream (the asyncio server's protocol factory)."""
        return SyncProtocol(on_made=self._on_made)

    def attach(self, server: StreamServer) -> None:
        """Serve through ``server`` (the asyncio server :meth:`SyncSession.listen` started)."""
        self._server = server

    def _on_made(self, proto: SyncProtocol) -> None:
        """A stream arrived (loop thread): queue it, or reset it if we are closed."""
        with self._lock:
            if not self._closed:
                self._queue.put(proto)
                return
        if proto.transport is not None:
            proto.transport.abort()

    def settimeout(self, value: float | None) -> None:
        """Timeout of :meth:`accept` (None = wait forever)."""
        self._timeout = value

    def gettimeout(self) -> float | None:
        return self._timeout

    def getsockname(self) -> tuple[str, int]:
        return (self.session.b32, self.port)

    def fileno(self) -> int:
        return -1

    def accept(self, timeout: float | None = None) -> tuple[StreamSocket, tuple[str, int]]:
        """Wait for the next stream; return ``(socket, (peer b32, peer port))``. Raises
        ``TimeoutError`` after ``timeout`` (default :meth:`settimeout`), ``OSError`` once
        the listener is closed."""
        if self._closed:
            raise OSError(f"listener on port {self.port} is closed")
        wait = self._timeout if timeout is None else timeout
        try:
            item = self._queue.get(timeout=wait)
        except queue.Empty:
            raise TimeoutError(f"no stream to port {self.port} within {wait:g} s") from None
        if item is _CLOSED:
            self._queue.put(_CLOSED)
            raise OSError(f"listener on port {self.port} is closed")
        sock = StreamSocket(self.session.loop, item, None)
        return sock, sock.getpeername()

    def close(self) -> None:
        """Stop accepting; streams accepted but not taken are reset. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        server = self._server
        loop = self.session.loop
        if server is not None and not loop.is_closed():
            loop.call_soon_threadsafe(server.close)
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if (
                isinstance(item, SyncProtocol)
                and item.transport is not None
                and not loop.is_closed()
            ):
                loop.call_soon_threadsafe(item.transport.abort)
        self._queue.put(_CLOSED)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def create_session(
    router: str | tuple[str, int] = "127.0.0.1:7654", *, timeout: float = 60.0, **kwargs: Any
) -> SyncSession:
    """Blocking :func:`i2p_streaming.create_session`: same arguments, returns a
    :class:`SyncSession` (a context manager) running on its own event-loop thread."""
    runner = _LoopThread()
    try:
        session = runner.run(_open(router, timeout, kwargs), timeout + 5.0)
    except BaseException:
        runner.stop()
        raise
    return SyncSession(runner, session)


async def _open(router: str | tuple[str, int], timeout: float, kwargs: Any) -> Session:
    return await aio_create_session(router, timeout=timeout, **kwargs)
