"""Events a :class:`~i2p_streaming.streaming.manager.StreamManager` hands to its shell.

Pull them with ``manager.next_event()`` after every input until it returns ``None``. All are
frozen slotted dataclasses; ``stream_id`` is always *our* id for the stream (the one returned
by ``connect`` or carried by :class:`IncomingConnection`).
"""

from __future__ import annotations

from dataclasses import dataclass

from i2p_streaming.data import Destination

__all__ = [
    "ConnectionClosed",
    "ConnectionEstablished",
    "ConnectionFailed",
    "ConnectionReset",
    "DataReceived",
    "Event",
    "IncomingConnection",
    "PeerClosed",
    "PingAnswered",
    "PingTimeout",
    "SendBufferAvailable",
    "SendComplete",
]


@dataclass(frozen=True, slots=True)
class Event:
    """Base class of all streaming events."""


@dataclass(frozen=True, slots=True)
class IncomingConnection(Event):
    """A verified SYN opened a new inbound stream on a listening port.

    Any data in the SYN follows as :class:`DataReceived`.
    """

    stream_id: int
    peer: Destination
    local_port: int
    remote_port: int


@dataclass(frozen=True, slots=True)
class ConnectionEstablished(Event):
    """Our outbound SYN was answered by a verified SYN reply (initiator side only)."""

    stream_id: int


@dataclass(frozen=True, slots=True)
class DataReceived(Event):
    """In-order bytes from the peer."""

    stream_id: int
    data: bytes


@dataclass(frozen=True, slots=True)
class PeerClosed(Event):
    """The peer sent CLOSE and every byte before it was delivered: end of input (half-close)."""

    stream_id: int


@dataclass(frozen=True, slots=True)
class ConnectionClosed(Event):
    """Both sides sent CLOSE and both CLOSEs were acknowledged: the stream is finished."""

    stream_id: int


@dataclass(frozen=True, slots=True)
class ConnectionReset(Event):
    """The stream ended abnormally: a verified RESET from the peer, or we gave up.

    ``reason`` is a human-readable cause; ``by_peer`` is True for a RESET from the peer.
    """

    stream_id: int
    reason: str
    by_peer: bool = False


@dataclass(frozen=True, slots=True)
class ConnectionFailed(Event):
    """An outbound connection could not be opened.

    ``refused`` is True when the peer answered our SYN with a verified RESET (nobody listening,
    limits); otherwise the connect timed out.
    """

    stream_id: int
    reason: str
    refused: bool


@dataclass(frozen=True, slots=True)
class PingAnswered(Event):
    """A pong matched our ping ``ping_id``; ``rtt`` in seconds, ``payload`` as echoed."""

    ping_id: int
    rtt: float
    payload: bytes = b""


@dataclass(frozen=True, slots=True)
class PingTimeout(Event):
    """No pong arrived for ``ping_id`` within its timeout."""

    ping_id: int


@dataclass(frozen=True, slots=True)
class SendBufferAvailable(Event):
    """The send buffer of a stream that refused bytes has drained below half, or has fallen to
    the level asked for with :meth:`StreamManager.notify_send_buffer`: write again."""

    stream_id: int


@dataclass(frozen=True, slots=True)
class SendComplete(Event):
    """Our CLOSE and every byte before it were acknowledged: we are done sending (the peer
    may still send until its own CLOSE)."""

    stream_id: int
