"""The I2CP client session's lifecycle states and the protocol constants it speaks by."""

from __future__ import annotations

import enum

__all__ = [
    "API_VERSION",
    "HOST_LOOKUP_VERSION",
    "HOST_REPLY_TEXT",
    "PROTOCOL_BYTE",
    "SessionState",
    "version_tuple",
]

PROTOCOL_BYTE = b"\x2a"
API_VERSION = "0.9.66"
#: Routers older than this have no HostLookup; DestLookup is used for b32 names instead.
HOST_LOOKUP_VERSION = (0, 9, 11)

HOST_REPLY_TEXT = {
    1: "not found",
    2: "password required",
    3: "private key required",
    4: "password and private key required",
    5: "lease set decryption failed",
    6: "lease set lookup failed",
    7: "lookup type unsupported",
}


class SessionState(enum.Enum):
    """Lifecycle of a session."""

    IDLE = "idle"  # start() not called yet
    HANDSHAKE = "handshake"  # GetDate sent, waiting for SetDate
    CREATING = "creating"  # CreateSession sent, waiting for SessionStatus
    CREATED = "created"  # session established
    CLOSING = "closing"  # DestroySession sent
    CLOSED = "closed"  # SessionEnded emitted


def version_tuple(text: str | None) -> tuple[int, ...] | None:
    """``"0.9.66"`` -> ``(0, 9, 66)``; None for a missing or malformed version."""
    if not text:
        return None
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None
