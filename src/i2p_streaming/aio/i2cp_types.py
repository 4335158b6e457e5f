"""What the asyncio I2CP client hands back: send results, session events, the reconnect policy."""

from __future__ import annotations

import ssl as ssl_module
from collections.abc import Mapping
from dataclasses import dataclass

from i2p_streaming.data import Destination, PrivateKeys
from i2p_streaming.errors import (
    I2CPConnectionError,
    I2CPError,
    I2CPProtocolError,
    SessionRefusedError,
)
from i2p_streaming.i2cp import events as ev

__all__ = [
    "ClientSettings",
    "END_ERRORS",
    "HANDSHAKE_TIMEOUT",
    "OutgoingPayload",
    "ReconnectPolicy",
    "SendResult",
    "SessionEvent",
    "SessionLost",
    "SessionRestored",
]


@dataclass(frozen=True, slots=True)
class SendResult:
    """Final status of :meth:`I2CPClient.send`: ``outcome`` DELIVERED or FAILED, the router's
    status code (None on local timeout) and its text."""

    nonce: int
    outcome: ev.SendOutcome
    status: int | None
    reason: str

    @property
    def delivered(self) -> bool:
        """True when the router reported success."""
        return self.outcome is ev.SendOutcome.DELIVERED


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Reconnect after the router goes away: wait ``initial_delay``, then multiply by ``factor``
    up to ``max_delay``; give up after ``max_attempts`` failed attempts (None = never)."""

    initial_delay: float = 1.0
    max_delay: float = 60.0
    factor: float = 2.0
    max_attempts: int | None = None


@dataclass(frozen=True, slots=True)
class SessionLost:
    """The session ended unexpectedly; ``reconnecting`` says whether the client will retry."""

    router: str
    b32: str
    reason: str
    reconnecting: bool


@dataclass(frozen=True, slots=True)
class SessionRestored:
    """A reconnect succeeded (same keys, new session id)."""

    router: str
    b32: str
    session_id: int
    attempts: int


SessionEvent = SessionLost | SessionRestored


#: Seconds for the router's first answer (SetDate to our GetDate) when opening a session.
HANDSHAKE_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """How an :class:`I2CPClient` reaches its router (see :meth:`I2CPClient.connect`)."""

    host: str
    port: int
    keys: PrivateKeys
    options: Mapping[str, str]
    ssl: ssl_module.SSLContext | None = None
    server_hostname: str | None = None
    timeout: float = 60.0
    username: str | None = None
    password: str | None = None
    receive_queue_size: int = 1024
    max_write_buffer: int = 1 << 20
    reconnect: ReconnectPolicy | None = None
    handshake_timeout: float = HANDSHAKE_TIMEOUT


#: The error a caller sees for each way a session can end.
END_ERRORS: dict[ev.EndReason, type[I2CPError]] = {
    ev.EndReason.DESTROYED: SessionRefusedError,
    ev.EndReason.INVALID: SessionRefusedError,
    ev.EndReason.REFUSED: SessionRefusedError,
    ev.EndReason.DISCONNECT: SessionRefusedError,
    ev.EndReason.EOF: I2CPConnectionError,
    ev.EndReason.PROTOCOL_ERROR: I2CPProtocolError,
    ev.EndReason.CLOSED: I2CPConnectionError,
}

#: One item of :meth:`I2CPClient.send_many_nowait`:
#: (destination, data, protocol, src_port, dst_port, compress).
OutgoingPayload = tuple[Destination, bytes | bytearray | memoryview, int, int, int, bool | None]
