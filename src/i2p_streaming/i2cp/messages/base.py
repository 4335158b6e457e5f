"""What every I2CP message shares: the :class:`Message` base, :class:`UnknownMessage`, and the
two bodies several messages reuse (session id only, empty)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from i2p_streaming.i2cp.reader import MessageReader as _Reader

__all__ = ["NO_SESSION", "Message", "UnknownMessage", "u16", "u32"]

#: SessionId meaning "no session" (HostLookup before a session exists).
NO_SESSION = 0xFFFF
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


def u16(v: int) -> bytes:
    """``v`` as 2 bytes, big-endian."""
    return _U16.pack(v)


def u32(v: int) -> bytes:
    """``v`` as 4 bytes, big-endian."""
    return _U32.pack(v)


class Message:
    """Base class of every I2CP message (for typing)."""

    __slots__ = ()
    TYPE: ClassVar[int]

    def encode(self) -> bytes:
        """Return the message body."""
        raise NotImplementedError

    @classmethod
    def decode(cls, body: bytes) -> Self:
        """Parse a body; raises DataFormatError."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class UnknownMessage(Message):
    """A frame whose type this codec does not know (never encoded on purpose)."""

    msg_type: int
    body: bytes

    def encode(self) -> bytes:
        return self.body


@dataclass(frozen=True, slots=True)
class _SessionOnly(Message):
    session_id: int

    def encode(self) -> bytes:
        return u16(self.session_id)

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, cls.__name__)
        msg = cls(r.uint(2, "session id"))
        r.done()
        return msg


@dataclass(frozen=True, slots=True)
class _Empty(Message):
    def encode(self) -> bytes:
        return b""

    @classmethod
    def decode(cls, body: bytes) -> Self:
        _Reader(body, cls.__name__).done()
        return cls()
