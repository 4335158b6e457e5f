"""Session lifecycle messages: handshake (GetDate/SetDate), create, reconfigure, destroy,
status, disconnect, bandwidth limits."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from i2p_streaming.data import encode_date, encode_mapping, encode_string
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp.messages.base import Message, _Empty, _SessionOnly, u16
from i2p_streaming.i2cp.reader import MessageReader as _Reader
from i2p_streaming.i2cp.sessionconfig import SessionConfig

__all__ = [
    "BandwidthLimits",
    "CreateSession",
    "DestroySession",
    "Disconnect",
    "GetBandwidthLimits",
    "GetDate",
    "ReconfigureSession",
    "SessionStatus",
    "SetDate",
]


@dataclass(frozen=True, slots=True)
class CreateSession(Message):
    TYPE: ClassVar[int] = 1
    config: SessionConfig

    def encode(self) -> bytes:
        return self.config.to_bytes()

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "CreateSession")
        msg = cls(SessionConfig._read(r))
        r.done()
        return msg


@dataclass(frozen=True, slots=True)
class ReconfigureSession(Message):
    TYPE: ClassVar[int] = 2
    session_id: int
    config: SessionConfig

    def encode(self) -> bytes:
        return u16(self.session_id) + self.config.to_bytes()

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "ReconfigureSession")
        msg = cls(r.uint(2, "session id"), SessionConfig._read(r))
        r.done()
        return msg


@dataclass(frozen=True, slots=True)
class DestroySession(_SessionOnly):
    TYPE: ClassVar[int] = 3


@dataclass(frozen=True, slots=True)
class GetBandwidthLimits(_Empty):
    TYPE: ClassVar[int] = 8


@dataclass(frozen=True, slots=True)
class SessionStatus(Message):
    TYPE: ClassVar[int] = 20
    DESTROYED: ClassVar[int] = 0
    CREATED: ClassVar[int] = 1
    UPDATED: ClassVar[int] = 2
    INVALID: ClassVar[int] = 3
    REFUSED: ClassVar[int] = 4
    session_id: int
    status: int

    def encode(self) -> bytes:
        return u16(self.session_id) + bytes((self.status,))

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "SessionStatus")
        msg = cls(r.uint(2, "session id"), r.uint(1, "status"))
        r.done()
        return msg


_LIMITS = struct.Struct(">16I")


@dataclass(frozen=True, slots=True)
class BandwidthLimits(Message):
    """16 integers: client in/out, router in/in-burst/out/out-burst, burst seconds, 9 unused."""

    TYPE: ClassVar[int] = 23
    limits: tuple[int, ...]

    def encode(self) -> bytes:
        return _LIMITS.pack(*self.limits)

    @classmethod
    def decode(cls, body: bytes) -> Self:
        if len(body) != _LIMITS.size:
            raise DataFormatError(f"BandwidthLimits: body is {len(body)} bytes, expected 64")
        return cls(_LIMITS.unpack(body))


@dataclass(frozen=True, slots=True)
class Disconnect(Message):
    TYPE: ClassVar[int] = 30
    reason: str

    def encode(self) -> bytes:
        return encode_string(self.reason)

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "Disconnect")
        msg = cls(r.string())
        r.done()
        return msg


@dataclass(frozen=True, slots=True)
class GetDate(Message):
    """``String version | [Mapping auth]``; an empty body (very old client) gives version ''."""

    TYPE: ClassVar[int] = 32
    version: str
    auth: dict[str, str] | None = None

    def encode(self) -> bytes:
        body = encode_string(self.version)
        if self.auth is not None:
            body += encode_mapping(self.auth)
        return body

    @classmethod
    def decode(cls, body: bytes) -> Self:
        if not body:
            return cls("")
        r = _Reader(body, "GetDate")
        version = r.string()
        auth = r.mapping() if r.pos < len(body) else None
        r.done()
        return cls(version, auth)


@dataclass(frozen=True, slots=True)
class SetDate(Message):
    TYPE: ClassVar[int] = 33
    date_ms: int
    version: str | None = None

    def encode(self) -> bytes:
        body = encode_date(self.date_ms)
        return body if self.version is None else body + encode_string(self.version)

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "SetDate")
        date_ms = r.date()
        version = r.string() if r.pos < len(body) else None
        r.done()
        return cls(date_ms, version)
