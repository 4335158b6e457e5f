"""Blocking, socket-like objects over streams that live on a private event-loop thread.

:class:`StreamSocket` behaves like a connected TCP ``socket.socket`` for ``sendall``/``recv``/
``makefile``/``settimeout``/``shutdown``/``close``; ``fileno()`` is -1 (there is no OS socket, so
``select``/``selectors`` cannot watch it). Timeouts raise ``TimeoutError`` (``socket.timeout``),
a reset peer ``ConnectionResetError``, writes after a half-close ``BrokenPipeError``.
"""

from __future__ import annotations

import asyncio
import io
import socket as _socket
import threading
import time
from types import TracebackType
from typing import Any, Self

from i2p_streaming.aio.transport import StreamTransport

__all__ = ["StreamSocket"]

#: Unread bytes above which the stream stops delivering (pause_reading) until recv catches up.
READ_HIGH_WATER = 256 * 1024
_SEND_CHUNK = 64 * 1024


class SyncProtocol(asyncio.Protocol):
    """Loop-side half of a :class:`StreamSocket`: buffers data for the blocking reader."""

    def __init__(self, on_made: Any = None) -> None:
        self.cond = threading.Condition()
        self.buffer = bytearray()
        self.eof = False
        self.lost = False
        self.error: BaseException | None = None
        self.writable = threading.Event()
        self.writable.set()
        self.transport: StreamTransport | None = None
        self.paused = False
        self.discard = False  # shutdown(SHUT_RD): drop what arrives from now on
        self._on_made = on_made

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, StreamTransport)
        self.transport = transport
        if self._on_made is not None:
            self._on_made(self)

    def data_received(self, data: bytes) -> None:
        with self.cond:
            if self.discard:
                return
            self.buffer += data
            self.cond.notify_all()
            if len(self.buffer) > READ_HIGH_WATER and self.transport is not None:
                self.paused = True
                self.transport.pause_reading()

    def eof_received(self) -> bool:
        with self.cond:
            self.eof = True
            self.cond.notify_all()
        return True  # half-close: we may still write

    def connection_lost(self, exc: Exception | None) -> None:
        with self.cond:
            self.lost = True
            self.error = exc
            self.cond.notify_all()
        self.writable.set()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()


class StreamSocket:
    """A connected stream with the blocking ``socket.socket`` interface (see module doc).

    Thread-safe for one reader and one writer thread at a time. ``getpeername()`` is
    ``(peer b32, peer port)``, ``getsockname()`` ``(our b32, local port)``."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, protocol: SyncProtocol, timeout: float | None
    ) -> None:
        assert protocol.transport is not None
        self._loop = loop
        self._proto = protocol
        self._transport: StreamTransport = protocol.transport
        self._timeout = timeout
        self._closed = False  # close() called (the stream may live on for makefile files)
        self._released = False  # the stream itself was closed
        self._shut_wr = False
        self._shut_rd = False
        self._io_refs = 0

    # ------------------------------------------------------------------ info
    def getpeername(self) -> tuple[str, int]:
        t = self._transport
        return (t.peer.b32, t.peer_port)

    def getsockname(self) -> tuple[str, int]:
        return self._transport.get_extra_info("sockname")  # type: ignore[no-any-return]

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The transport's extra info (``peer_destination``, ``stats``, ``stream_id``, ...)."""
        if name == "stats":
            return self._call(self._transport.stats)
        return self._transport.get_extra_info(name, default)

    def fileno(self) -> int:
        """Always -1: there is no OS socket (``select`` cannot watch a stream)."""
        return -1

    def setsockopt(self, *args: Any) -> None:
        """Accepted and ignored (e.g. TCP_NODELAY set by socketserver handlers)."""

    def settimeout(self, value: float | None) -> None:
        """``None`` blocks, ``0.0`` is non-blocking (``BlockingIOError``), ``> 0`` raises
        ``TimeoutError`` after that many seconds."""
        if value is not None and value < 0:
            raise ValueError("timeout must be non-negative or None")
        self._timeout = value

    def gettimeout(self) -> float | None:
        return self._timeout

    def setblocking(self, flag: bool) -> None:
        self._timeout = None if flag else 0.0

    def getblocking(self) -> bool:
        return self._timeout != 0.0

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ reading
    def _wait_readable(self) -> None:
        """Wait (holding the condition) until data, EOF, an error or the timeout."""
        p = self._proto
        timeout = self._timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._released:
            raise OSError("recv on a closed stream socket")
        while not p.buffer and not p.eof and not p.lost and not self._shut_rd:
            if self._released:
                raise OSError("recv on a closed stream socket")
            if timeout == 0.0:
                raise BlockingIOError("no data available")
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"recv timed out after {timeout:g} s")
            p.cond.wait(remaining)

    def recv_ready(self) -> bool:
        """True if ``recv`` would return at once (data, end of input or an error waits)."""
        p = self._proto
        with p.cond:
            return bool(p.buffer or p.eof or p.lost or self._shut_rd or self._released)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """Up to ``bufsize`` bytes; ``b""`` at end of input (peer CLOSE or shutdown(SHUT_RD))."""
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        p = self._proto
        with p.cond:
            self._wait_readable()
            if not p.buffer:
                if p.lost and p.error is not None and not p.eof:
                    raise ConnectionResetError(str(p.error))
                return b""
            data = bytes(p.buffer[:bufsize])
            del p.buffer[:bufsize]
            self._maybe_resume()
        return data

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """Read into ``buffer`` (up to ``nbytes`` or its length); 0 at end of input."""
        view = memoryview(buffer).cast("B")
        n = nbytes or len(view)
        p = self._proto
        with p.cond:
            self._wait_readable()
            if not p.buffer:
                if p.lost and p.error is not None and not p.eof:
                    raise ConnectionResetError(str(p.error))
                return 0
            n = min(n, len(p.buffer))
            view[:n] = p.buffer[:n]
            del p.buffer[:n]
            self._maybe_resume()
        return n

    def _maybe_resume(self) -> None:
        p = self._proto
        if p.paused and len(p.buffer) <= READ_HIGH_WATER // 4:
            p.paused = False
            self._loop.call_soon_threadsafe(self._transport.resume_reading)

    # ------------------------------------------------------------------ writing
    def sendall(self, data: Any, flags: int = 0) -> None:
        """Send every byte (blocking while the stream's send buffer is full). Raises
        ``BrokenPipeError`` after shutdown/close, ``ConnectionResetError`` after a reset,
        ``TimeoutError`` when the buffer stays full past the timeout."""
        view = memoryview(data).cast("B")
        for off in range(0, len(view), _SEND_CHUNK):
            self._send_chunk(bytes(view[off : off + _SEND_CHUNK]))
        if not len(view):
            self._check_writable()

    def send(self, data: Any, flags: int = 0) -> int:
        """Like :meth:`sendall` (streams accept every byte once there is room); returns the
        number of bytes."""
        n = len(memoryview(data).cast("B"))
        self.sendall(data)
        return n

    def _check_writable(self) -> None:
        if self._released:
            raise OSError("send on a closed stream socket")
        if self._shut_wr:
            raise BrokenPipeError("send after shutdown(SHUT_WR)")
        p = self._proto
        if p.lost:
            raise ConnectionResetError(str(p.error or "the stream has ended"))

    def _send_chunk(self, chunk: bytes) -> None:
        self._check_writable()
        p = self._proto
        if not p.writable.is_set():
            if self._timeout == 0.0:
                raise BlockingIOError("the stream's send buffer is full")
            if not p.writable.wait(self._timeout):
                raise TimeoutError(f"send timed out after {self._timeout:g} s")
            self._check_writable()
        self._call(self._transport.write, chunk)

    def _call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the loop thread and return its result (or raise its error)."""
        if self._loop.is_closed():
            raise OSError("the session is closed")

        async def call() -> Any:
            return fn(*args)

        try:
            return asyncio.run_coroutine_threadsafe(call(), self._loop).result()
        except RuntimeError as exc:
            raise OSError(f"the session is closed: {exc}") from None

    # ------------------------------------------------------------------ endings
    def shutdown(self, how: int) -> None:
        """``SHUT_WR``: half-close (CLOSE; ``recv`` still works until the peer's CLOSE);
        ``SHUT_RD``: ``recv`` returns ``b""`` from now on; ``SHUT_RDWR``: both."""
        if how in (_socket.SHUT_RD, _socket.SHUT_RDWR):
            with self._proto.cond:
                self._shut_rd = True
                self._proto.discard = True
                self._proto.buffer.clear()
                self._proto.cond.notify_all()
        if how in (_socket.SHUT_WR, _socket.SHUT_RDWR) and not self._shut_wr:
            self._shut_wr = True
            if not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._transport.write_eof)

    def close(self) -> None:
        """Close (CLOSE after the buffered bytes); files from :meth:`makefile` keep the
        stream open until they are closed too. Idempotent."""
        self._closed = True
        if self._io_refs <= 0:
            self._real_close()

    def _real_close(self) -> None:
        if self._released:
            return
        self._released = True
        with self._proto.cond:
            self._proto.cond.notify_all()
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._transport.close)

    def detach(self) -> int:
        raise OSError("stream sockets cannot be detached")

    def abort(self) -> None:
        """Reset the stream (RESET to the peer) at once."""
        self._closed = self._released = True
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._transport.abort)

    def _decref_socketios(self) -> None:
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closed and self._io_refs <= 0:
            self._real_close()

    def makefile(
        self,
        mode: str = "r",
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> Any:
        """A file object like ``socket.makefile``: modes ``r``/``w``/``rw`` with ``b`` for
        binary; text mode wraps it in :class:`io.TextIOWrapper`."""
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError(f"invalid mode {mode!r} (only 'r', 'w', 'b')")
        reading = "r" in mode
        writing = "w" in mode
        if not reading and not writing:
            raise ValueError("makefile mode must include 'r' or 'w'")
        raw = _StreamIO(self, reading, writing)
        self._io_refs += 1
        if buffering is None:
            buffering = -1
        if buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if "b" not in mode:
                raise ValueError("unbuffered streams must be binary")
            return raw
        buffered: io.BufferedIOBase
        if reading and writing:
            buffered = io.BufferedRWPair(raw, raw, buffering)
        elif reading:
            buffered = io.BufferedReader(raw, buffering)
        else:
            buffered = io.BufferedWriter(raw, buffering)
        if "b" in mode:
            return buffered
        text = io.TextIOWrapper(buffered, encoding, errors, newline)  # type: ignore[type-var]
        text.mode = mode  # type: ignore[misc]
        return text

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        b32, port = self.getpeername()
        state = "closed" if self._closed else "open"
        return f"<StreamSocket {state} peer={b32[:16]}… port={port}>"


class _StreamIO(io.RawIOBase):
    """Raw file over a :class:`StreamSocket` (what ``makefile`` buffers)."""

    def __init__(self, sock: StreamSocket, reading: bool, writing: bool) -> None:
        super().__init__()
        self._sock = sock
        self._reading = reading
        self._writing = writing

    def readinto(self, b: Any) -> int:
        self._checkClosed()
        return self._sock.recv_into(b)

    def write(self, b: Any) -> int:
        self._checkClosed()
        return self._sock.send(b)

    def readable(self) -> bool:
        return self._reading

    def writable(self) -> bool:
        return self._writing

    def seekable(self) -> bool:
        return False

    def fileno(self) -> int:
        return -1

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        self._sock._decref_socketios()
