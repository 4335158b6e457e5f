"""The asyncio session's table of streams: which transport and which waiting call belong to
which stream (or ping) id, and the streaming core's per-stream events routed to them."""

from __future__ import annotations

import asyncio

from i2p_streaming.aio.transport import StreamTransport
from i2p_streaming.streaming import (
    ConnectionClosed,
    ConnectionEstablished,
    ConnectionFailed,
    ConnectionReset,
    DataReceived,
    PeerClosed,
    PingAnswered,
    PingTimeout,
    SendBufferAvailable,
    SendComplete,
)

__all__ = ["StreamTable"]


class StreamTable:
    """Transports by stream id, and the futures of connects and pings in progress."""

    def __init__(self) -> None:
        self._streams: dict[int, StreamTransport] = {}
        self._connecting: dict[int, asyncio.Future[StreamTransport]] = {}
        self._pings: dict[int, asyncio.Future[float]] = {}

    def __len__(self) -> int:
        return len(self._streams)

    # -- registration --------------------------------------------------------------------------
    def add(self, transport: StreamTransport) -> None:
        """Route the events of ``transport.stream_id`` to ``transport``."""
        self._streams[transport.stream_id] = transport

    def pop(self, stream_id: int) -> StreamTransport | None:
        """Stop routing events of ``stream_id``; the transport it had, if any."""
        return self._streams.pop(stream_id, None)

    def transports(self) -> list[StreamTransport]:
        """Every transport still routed to."""
        return list(self._streams.values())

    def forget(self, transport: StreamTransport) -> None:
        """``transport`` has ended: route nothing more to it."""
        if self._streams.get(transport.stream_id) is transport:
            del self._streams[transport.stream_id]

    def connecting(self, stream_id: int, fut: asyncio.Future[StreamTransport]) -> None:
        """``fut`` gets the transport once ``stream_id`` is established (or its error)."""
        self._connecting[stream_id] = fut

    def connect_future(self, stream_id: int) -> asyncio.Future[StreamTransport] | None:
        """The pending connect of ``stream_id``, if any."""
        return self._connecting.get(stream_id)

    def stop_connecting(self, stream_id: int) -> None:
        """The caller stopped waiting for ``stream_id``."""
        self._connecting.pop(stream_id, None)

    def fail_connects(self, exc: Exception) -> None:
        """Fail every pending connect with ``exc`` (they stay registered)."""
        for fut in self._connecting.values():
            if not fut.done():
                fut.set_exception(exc)

    def ping(self, ping_id: int, fut: asyncio.Future[float]) -> None:
        """``fut`` gets the round-trip time of ping ``ping_id``."""
        self._pings[ping_id] = fut

    def stop_ping(self, ping_id: int) -> None:
        """The caller stopped waiting for ping ``ping_id``."""
        self._pings.pop(ping_id, None)

    def fail_all(self, reason: str) -> None:
        """The session is gone: every call waiting fails, every transport ends, with
        ``ConnectionResetError(reason)``."""
        for fut in list(self._connecting.values()) + list(self._pings.values()):
            if not fut.done():
                fut.set_exception(ConnectionResetError(reason))
        self._connecting.clear()
        self._pings.clear()
        for transport in list(self._streams.values()):
            transport.finish(ConnectionResetError(reason))
        self._streams.clear()

    # -- core events ---------------------------------------------------------------------------
    def on_data(self, event: DataReceived) -> None:
        """In-order bytes for the stream's protocol."""
        t = self._streams.get(event.stream_id)
        if t is not None:
            t.feed_data(event.data)

    def on_send_buffer(self, event: SendBufferAvailable) -> None:
        """The stream's send buffer has room again."""
        t = self._streams.get(event.stream_id)
        if t is not None:
            t.send_buffer_available()

    def on_send_complete(self, event: SendComplete) -> None:
        """Our CLOSE and everything before it were acknowledged."""
        t = self._streams.get(event.stream_id)
        if t is not None:
            t.send_complete()

    def on_peer_closed(self, event: PeerClosed) -> None:
        """End of input from the peer."""
        t = self._streams.get(event.stream_id)
        if t is not None:
            t.feed_eof()

    def on_closed(self, event: ConnectionClosed) -> None:
        """Clean end of the stream."""
        t = self._streams.get(event.stream_id)
        if t is not None:
            t.finish(None)

    def on_ping(self, event: PingAnswered | PingTimeout) -> None:
        """A ping's answer (its round-trip time) or its timeout."""
        fut = self._pings.pop(event.ping_id, None)
        if fut is not None and not fut.done():
            if isinstance(event, PingAnswered):
                fut.set_result(event.rtt)
            else:
                fut.set_exception(TimeoutError("no answer to the ping"))

    def on_established(self, event: ConnectionEstablished) -> None:
        """Our SYN was answered: the waiting connect gets its transport (or, if the caller
        gave up meanwhile, the stream is reset)."""
        fut = self._connecting.pop(event.stream_id, None)
        transport = self._streams.get(event.stream_id)
        if transport is None:
            return
        if fut is None or fut.done():
            transport.abort()
            return
        transport.start()
        fut.set_result(transport)

    def on_reset(self, event: ConnectionReset) -> None:
        """The stream was reset: ``connection_lost(ConnectionResetError)``."""
        t = self._streams.get(event.stream_id)
        if t is None:
            return
        who = "the peer reset" if event.by_peer else "reset"
        t.finish(
            ConnectionResetError(
                f"stream to {t.peer.b32} port {t.peer_port}: {who} the connection ({event.reason})"
            )
        )

    def on_failed(self, event: ConnectionFailed) -> None:
        """The connect failed: ``ConnectionRefusedError`` or ``TimeoutError`` for the caller."""
        transport = self._streams.pop(event.stream_id, None)
        fut = self._connecting.pop(event.stream_id, None)
        if fut is None or fut.done():
            return
        exc: OSError = (
            ConnectionRefusedError(event.reason) if event.refused else TimeoutError(event.reason)
        )
        if transport is not None:
            transport.abandon()
        fut.set_exception(exc)
