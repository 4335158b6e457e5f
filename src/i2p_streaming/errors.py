"""Exceptions shared by every layer.

Peer input that is malformed raises :class:`DataFormatError` from parsers (and is turned into
events by the sans-I/O cores); local misuse of a core (a call its state does not allow)
raises :class:`InvalidStateError`; router trouble raises :class:`I2CPError` subclasses; streams use
the built-in ``ConnectionRefusedError``, ``ConnectionResetError``, ``TimeoutError`` and
``BrokenPipeError`` so that asyncio and socket users see what they expect.
"""

from __future__ import annotations


class DataFormatError(ValueError):
    """Bytes or text that do not form a valid I2P structure.

    The message says what was wrong and where (structure name and byte offset).
    """


class InvalidStateError(RuntimeError, ValueError):
    """Local misuse of a sans-I/O core: a call that the core's current state does not allow
    (an unknown or finished stream id, a send before the I2CP session is up, ...). It is always
    the caller's bug, never the peer's or the router's. It is both a ``RuntimeError`` and a
    ``ValueError``, the bare errors the I2CP and streaming cores raised before, so code that
    caught those keeps working."""


class I2CPError(Exception):
    """A failure talking to an I2P router over I2CP.

    ``router`` is ``"host:port"`` of the router (or ``""`` when not known) and ``reason`` the
    human-readable cause as reported by the router or detected locally.
    """

    def __init__(self, message: str, *, router: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.router = router
        self.reason = reason or message


class I2CPConnectionError(I2CPError, ConnectionError):
    """The connection to the router could not be made or was lost."""


class I2CPProtocolError(I2CPError):
    """The router sent something that breaks the I2CP protocol."""


class SessionRefusedError(I2CPError):
    """The router refused or ended our session (SessionStatus Invalid/Refused/Destroyed,
    Disconnect)."""


class DestinationLookupError(I2CPError, LookupError):
    """A destination lookup failed (unknown name or unreachable lease set)."""


class UnknownOptionWarning(UserWarning):
    """A session option key that no layer knows (probably misspelt); the message suggests the
    closest known key. ``create_session(..., strict=True)`` raises ``ValueError`` instead."""


class DatagramTooLarge(ValueError):
    """A datagram to send is over the 32768-byte limit of one I2CP datagram; the message
    names the payload's size and the largest payload of that kind from that destination."""


class NonI2PHostError(ValueError):
    """A URL's host is not an I2P name (``NAME.i2p`` or ``….b32.i2p``) and no fallback was
    given to the web clients (:mod:`i2p_streaming.web`): the request was refused before any
    connection was made."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"{host!r} is not an I2P host (expected NAME.i2p or ....b32.i2p): refused, "
            "nothing was connected; pass a fallback to send other hosts elsewhere"
        )
        self.host = host


__all__ = [
    "DataFormatError",
    "DatagramTooLarge",
    "DestinationLookupError",
    "I2CPConnectionError",
    "I2CPError",
    "I2CPProtocolError",
    "InvalidStateError",
    "NonI2PHostError",
    "SessionRefusedError",
    "UnknownOptionWarning",
]
