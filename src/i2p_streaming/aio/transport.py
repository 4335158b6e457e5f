"""One asyncio transport per I2P stream, driven by the session's sans-I/O StreamManager.

A :class:`StreamTransport` never touches a socket: ``write`` hands bytes to the manager's send
buffer (keeping what does not fit in a local overflow buffer, refilled on the core's
:class:`~i2p_streaming.streaming.SendBufferAvailable`).

The contract with the owning session is small and public, in both directions:

- the transport sees its session only as a :class:`StreamHost` (loop, manager, destination,
  ``schedule_flush``, ``forget``);
- the session drives the transport with :meth:`StreamTransport.start`, ``feed_data``,
  ``feed_eof``, ``send_buffer_available``, ``send_complete``, ``finish`` and ``abandon``, and
  waits for its end with ``when_lost``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterable
from typing import Any, Protocol

from i2p_streaming.data import Destination
from i2p_streaming.streaming import StreamManager, StreamStats

__all__ = ["StreamHost", "StreamTransport"]

log = logging.getLogger("i2p_streaming.aio")

#: Bytes buffered for a protocol that paused reading before we stop counting (see docs).
DEFAULT_HIGH_WATER = 128 * 1024


class StreamHost(Protocol):
    """What a :class:`StreamTransport` needs from the session that owns it."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The session's event loop."""
        ...

    @property
    def manager(self) -> StreamManager:
        """The sans-I/O streaming core the transport writes into."""
        ...

    @property
    def destination(self) -> Destination:
        """Our Destination."""
        ...

    def schedule_flush(self) -> None:
        """Flush the core at the end of this loop iteration (a call queued output)."""
        ...

    def forget(self, transport: StreamTransport) -> None:
        """The transport has ended: route no more events to it."""
        ...


class StreamTransport(asyncio.Transport):
    """An :class:`asyncio.Transport` over one I2P stream.

    ``write`` never blocks; when more than the high-water mark waits (in the streaming send
    buffer plus our overflow) the protocol's ``pause_writing`` is called, and
    ``resume_writing`` once it drops to the low-water mark. ``write_eof`` half-closes (CLOSE):
    reading continues until the peer's CLOSE. ``close`` sends CLOSE after the buffered data
    and stops reading; ``abort`` sends RESET. ``connection_lost`` gets ``None`` after a clean
    end and :class:`ConnectionResetError` after a reset or a lost router session.

    Extra info: ``peer_destination`` (Destination), ``peer_b32``, ``peer_port``,
    ``local_port``, ``local_destination``, ``stream_id`` and ``stats``
    (:class:`~i2p_streaming.streaming.StreamStats`, or the last snapshot after the end).
    """

    def __init__(
        self,
        session: StreamHost,
        stream_id: int,
        protocol: asyncio.BaseProtocol,
        peer: Destination,
        local_port: int,
        peer_port: int,
    ) -> None:
        super().__init__()
        self._session = session
        self._manager = session.manager
        self.stream_id = stream_id
        self._protocol = protocol
        self.peer = peer
        self.local_port = local_port
        self.peer_port = peer_port
        self._overflow = bytearray()
        self._eof_pending = False  # write_eof/close asked while overflow still holds data
        self._eof_sent = False
        self._closing = False  # close() or abort() was called
        self._lost = False  # connection_lost was delivered (or is scheduled)
        self._started = False  # connection_made was delivered
        self._reading_paused = False
        self._read_backlog: deque[bytes] = deque()
        self._held_credit = 0  # bytes delivered to a protocol that paused reading on them
        self._peer_eof = False
        self._end_pending = False
        self._writing_paused = False
        self._high = DEFAULT_HIGH_WATER
        self._low = DEFAULT_HIGH_WATER // 4
        self._send_done = False  # SendComplete seen
        self._last_stats: StreamStats | None = None
        self._lost_waiters: list[asyncio.Future[None]] = []

    # ------------------------------------------------------------------ asyncio.Transport API
    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``peer_destination``, ``peer_b32``, ``peer_port``, ``local_port``,
        ``local_destination``, ``stream_id``, ``stats``, ``peername`` ((b32, port)),
        ``sockname`` ((our b32, local port)); anything else -> ``default``."""
        if name == "stats":
            return self.stats() or default
        info = {
            "peer_destination": self.peer,
            "peer_b32": self.peer.b32,
            "peer_port": self.peer_port,
            "local_port": self.local_port,
            "local_destination": self._session.destination,
            "stream_id": self.stream_id,
            "peername": (self.peer.b32, self.peer_port),
            "sockname": (self._session.destination.b32, self.local_port),
        }
        return info.get(name, default)

    def stats(self) -> StreamStats | None:
        """A snapshot of the stream's counters (RTT, RTO, window, bytes, packets,
        retransmissions), the last one taken when the stream is gone, or None."""
        with contextlib.suppress(ValueError):
            self._last_stats = self._manager.stats(self.stream_id)
        return self._last_stats

    def is_closing(self) -> bool:
        """True once ``close``/``abort`` was called or the stream ended."""
        return self._closing or self._lost

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol

    def is_reading(self) -> bool:
        return not self._reading_paused and not self._lost

    def pause_reading(self) -> None:
        """Stop calling ``data_received``; bytes that arrive meanwhile are kept here.

        Read credit: bytes count as read by the application (``StreamManager.consumed``)
        when ``data_received`` returns without having paused reading. Kept bytes, and the
        chunk during which the protocol paused (an ``asyncio.StreamReader`` over its limit
        does that), are credited only on ``resume_reading``. Until then they fill the
        stream's receive buffer, and a full buffer chokes the peer: what is kept here is
        bounded by the receive buffer (``maxMessageSize * 130`` bytes by default)."""
        self._reading_paused = True

    def resume_reading(self) -> None:
        """Deliver the kept bytes (and a kept end of input) and continue reading."""
        if not self._reading_paused:
            return
        self._reading_paused = False
        self._session.loop.call_soon(self._drain_backlog)

    def _credit(self, nbytes: int) -> None:
        """Tell the core the application has read ``nbytes`` (may unchoke the peer)."""
        if nbytes and self._manager.consumed(self.stream_id, nbytes, self._session.loop.time()):
            self._session.schedule_flush()

    def _drain_backlog(self) -> None:
        if self._held_credit and not self._reading_paused:
            held, self._held_credit = self._held_credit, 0
            self._credit(held)
        while self._read_backlog and not self._reading_paused and not self._lost:
            self._deliver(self._read_backlog.popleft())
        if not self._read_backlog and self._peer_eof and not self._reading_paused:
            self._peer_eof = False
            self._deliver_eof()
        if self._end_pending and not self._read_backlog and not self._peer_eof:
            self._end_pending = False
            self._lose(None)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """Pause writing above ``high`` buffered bytes (default 128 KiB), resume at ``low``
        (default high/4)."""
        if high is None:
            high = DEFAULT_HIGH_WATER if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high, self._low = high, low
        self._check_pause()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (self._low, self._high)

    def get_write_buffer_size(self) -> int:
        """Bytes written but not yet handed to the network (overflow + stream send buffer)."""
        size = len(self._overflow)
        if not self._lost:
            with contextlib.suppress(ValueError):
                size += self._manager.stats(self.stream_id).send_buffered
        return size

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data``; raises ``BrokenPipeError`` after ``write_eof``/``close``, and
        ``ConnectionResetError`` once the stream was reset."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data must be bytes-like, not {type(data).__name__}")
        if self._eof_pending or self._eof_sent or self._closing:
            raise BrokenPipeError(f"stream to {self.peer.b32} port {self.peer_port} is closed")
        if self._lost:
            raise ConnectionResetError(
                f"stream to {self.peer.b32} port {self.peer_port} was reset or lost"
            )
        if not data:
            return
        if self._overflow:
            self._overflow += data
        else:
            n = self._manager.send(self.stream_id, data, self._session.loop.time())
            if n < len(data):  # the core refused bytes: SendBufferAvailable will follow
                self._overflow += memoryview(data)[n:]
            self._session.schedule_flush()
        self._check_pause()

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        """``write(b"".join(list_of_data))``."""
        self.write(b"".join(list_of_data))

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        """Half-close: send CLOSE after the buffered bytes; keep reading until the peer's
        CLOSE (``eof_received``). Idempotent."""
        if self._lost or self._eof_pending or self._eof_sent:
            return
        self._eof_pending = True
        self._push_overflow()

    def close(self) -> None:
        """Send CLOSE after the buffered bytes and stop delivering data; ``connection_lost(None)``
        follows once our CLOSE is acknowledged (or the stream ends). Idempotent."""
        if self._closing or self._lost:
            return
        self._closing = True
        self._credit(sum(map(len, self._read_backlog)) + self._held_credit)  # discarded
        self._held_credit = 0
        self._read_backlog.clear()
        self.write_eof()
        if self._send_done:  # our CLOSE was acknowledged already (after write_eof)
            self._lose(None)
        else:
            self._session.schedule_flush()  # ends on the core's SendComplete

    def abort(self) -> None:
        """Reset the stream at once (signed RESET); ``connection_lost(None)`` follows soon."""
        if self._lost:
            return
        self._closing = True
        self._overflow.clear()
        self.stats()
        self._manager.reset(self.stream_id, self._session.loop.time())
        self._session.schedule_flush()
        self._lose(None)

    @property
    def is_lost(self) -> bool:
        """True once the stream ended for this transport (``connection_lost`` is due)."""
        return self._lost

    def when_lost(self) -> asyncio.Future[None]:
        """A future resolved once the stream has ended for this transport."""
        fut: asyncio.Future[None] = self._session.loop.create_future()
        if self._lost:
            fut.set_result(None)
        else:
            self._lost_waiters.append(fut)
        return fut

    # ------------------------------------------------------------------ driven by the session
    def start(self) -> None:
        """The stream is open: deliver ``connection_made``."""
        self._started = True
        try:
            self._protocol.connection_made(self)
        except Exception:
            log.exception("stream %d: connection_made failed", self.stream_id)
            self.abort()

    def feed_data(self, data: bytes) -> None:
        """In-order bytes from the peer (kept while the protocol paused reading)."""
        if self._closing or self._lost:
            self._credit(len(data))  # nobody reads any more: discard, do not choke the peer
            return
        if self._reading_paused or self._read_backlog:
            self._read_backlog.append(data)
        else:
            self._deliver(data)

    def feed_eof(self) -> None:
        """The peer half-closed: deliver ``eof_received`` (after kept bytes)."""
        if self._closing or self._lost:
            return
        if self._reading_paused or self._read_backlog:
            self._peer_eof = True
        else:
            self._deliver_eof()

    def send_buffer_available(self) -> None:
        """The core's send buffer drained (:class:`SendBufferAvailable`): move overflow bytes
        into it, send a pending CLOSE, resume writing."""
        self._push_overflow()
        if self._writing_paused:
            self._check_pause()

    def send_complete(self) -> None:
        """Our CLOSE and every byte before it were acknowledged (:class:`SendComplete`): a
        ``close`` ends here (``connection_lost(None)``); after ``write_eof`` we keep reading."""
        self._send_done = True
        if self._closing and not self._lost:
            self._lose(None)

    def abandon(self) -> None:
        """The session gave up on the stream before it opened: no callbacks will follow."""
        self._lost = True
        self._resolve_lost_waiters()

    def finish(self, exc: Exception | None) -> None:
        """The stream is over (closed cleanly, reset, or the session is gone).

        After a clean end, bytes kept for a protocol that paused reading are still delivered
        on ``resume_reading`` before ``connection_lost``."""
        self.stats()
        self._overflow.clear()
        if exc is None and (self._read_backlog or self._peer_eof) and not self._closing:
            self._end_pending = True
            self._session.forget(self)
            return
        self._lose(exc)

    def _push_overflow(self) -> None:
        """Move overflow bytes into the stream send buffer; send a pending CLOSE once empty."""
        if self._lost:
            return
        if self._overflow:
            try:
                n = self._manager.send(self.stream_id, self._overflow, self._session.loop.time())
            except (BrokenPipeError, ValueError):
                self._overflow.clear()
                return
            if n:
                del self._overflow[:n]
                self._session.schedule_flush()
        if self._eof_pending and not self._overflow:
            self._eof_pending = False
            self._eof_sent = True
            try:
                self._manager.close(self.stream_id, self._session.loop.time())
            except ValueError:
                return
            self._session.schedule_flush()

    def _check_pause(self) -> None:
        if self._lost:
            return
        size = self.get_write_buffer_size()
        if not self._writing_paused and size > self._high:
            self._writing_paused = True
            self._call("pause_writing")
        elif self._writing_paused and size <= self._low:
            self._writing_paused = False
            self._call("resume_writing")
        if self._writing_paused and not self._overflow:
            # the core took every byte, so no refusal will bring SendBufferAvailable: ask it
            # to tell us when its buffer is down to the low-water mark
            with contextlib.suppress(ValueError):
                self._manager.notify_send_buffer(self.stream_id, self._low)

    def _deliver(self, data: bytes) -> None:
        try:
            self._protocol.data_received(data)  # type: ignore[attr-defined]
        except Exception:
            log.exception("stream %d: data_received failed", self.stream_id)
            self.abort()
            return
        if self._reading_paused:
            self._held_credit += len(data)  # the protocol is over its limit: read later
        else:
            self._credit(len(data))

    def _deliver_eof(self) -> None:
        try:
            keep_open = self._protocol.eof_received()  # type: ignore[attr-defined]
        except Exception:
            log.exception("stream %d: eof_received failed", self.stream_id)
            self.abort()
            return
        if not keep_open:
            self.close()

    def _lose(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._session.forget(self)
        self._resolve_lost_waiters()
        if self._started:
            self._session.loop.call_soon(self._call_connection_lost, exc)

    def _resolve_lost_waiters(self) -> None:
        waiters, self._lost_waiters = self._lost_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def _call_connection_lost(self, exc: Exception | None) -> None:
        try:
            self._protocol.connection_lost(exc)
        except Exception:
            log.exception("stream %d: connection_lost failed", self.stream_id)

    def _call(self, name: str) -> None:
        try:
            getattr(self._protocol, name)()
        except Exception:
            log.exception("stream %d: %s failed", self.stream_id, name)

    def __repr__(self) -> str:
        state = "lost" if self._lost else "closing" if self._closing else "open"
        return (
            f"<StreamTransport {self.stream_id} {state} peer={self.peer.b32[:16]}… "
            f"port={self.peer_port}>"
        )
