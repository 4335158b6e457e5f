"""Destination lookups: HostLookup/HostReply and the older DestLookup/DestReply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from i2p_streaming.data import Destination, encode_mapping, encode_string
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp.messages.base import Message, u16, u32
from i2p_streaming.i2cp.reader import MessageReader as _Reader

__all__ = ["DestLookup", "DestReply", "HostLookup", "HostReply"]


@dataclass(frozen=True, slots=True)
class DestLookup(Message):
    TYPE: ClassVar[int] = 34
    hash: bytes

    def encode(self) -> bytes:
        if len(self.hash) != 32:
            raise ValueError("DestLookup needs a 32-byte hash")
        return self.hash

    @classmethod
    def decode(cls, body: bytes) -> Self:
        if len(body) != 32:
            raise DataFormatError(f"DestLookup: body is {len(body)} bytes, expected 32")
        return cls(body)


@dataclass(frozen=True, slots=True)
class DestReply(Message):
    """A Destination on success, or just the 32-byte hash looked up on failure."""

    TYPE: ClassVar[int] = 35
    destination: Destination | None = None
    hash: bytes | None = None

    def encode(self) -> bytes:
        if self.destination is not None:
            return self.destination.to_bytes()
        return self.hash or b""

    @classmethod
    def decode(cls, body: bytes) -> Self:
        if len(body) == 32:
            return cls(None, body)
        if not body:
            return cls(None, None)
        r = _Reader(body, "DestReply")
        msg = cls(r.destination(), None)
        r.done()
        return msg


@dataclass(frozen=True, slots=True)
class HostLookup(Message):
    """Types: 0 hash, 1 hostname, 2 hash+options, 3 hostname+options, 4 Destination+options."""

    TYPE: ClassVar[int] = 38
    BY_HASH: ClassVar[int] = 0
    BY_NAME: ClassVar[int] = 1
    session_id: int
    request_id: int
    timeout_ms: int
    lookup_type: int
    key: bytes | str | Destination

    def encode(self) -> bytes:
        head = u16(self.session_id) + u32(self.request_id) + u32(self.timeout_ms)
        head += bytes((self.lookup_type,))
        key = self.key
        if isinstance(key, str):
            return head + encode_string(key)
        if isinstance(key, Destination):
            return head + key.to_bytes()
        return head + key

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "HostLookup")
        sid, rid, timeout = r.uint(2, "session id"), r.uint(4, "request id"), r.uint(4, "timeout")
        kind = r.uint(1, "type")
        key: bytes | str | Destination
        if kind in (0, 2):
            key = r.take(32, "hash")
        elif kind in (1, 3):
            key = r.string()
        elif kind == 4:
            key = r.destination()
        else:  # a type from a newer API: keep the key bytes so a router can answer "unsupported"
            key = r.rest()
        r.done()
        return cls(sid, rid, timeout, kind, key)


@dataclass(frozen=True, slots=True)
class HostReply(Message):
    """``result`` 0 = found (Destination follows); options only for lookup types 2-4."""

    TYPE: ClassVar[int] = 39
    session_id: int
    request_id: int
    result: int
    destination: Destination | None = None
    options: dict[str, str] | None = None

    def encode(self) -> bytes:
        body = u16(self.session_id) + u32(self.request_id) + bytes((self.result,))
        if self.destination is not None:
            body += self.destination.to_bytes()
        if self.options is not None:
            body += encode_mapping(self.options)
        return body

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "HostReply")
        sid, rid, result = r.uint(2, "session id"), r.uint(4, "request id"), r.uint(1, "result")
        dest = r.destination() if result == 0 else None
        options = r.mapping() if r.pos < len(body) else None
        r.done()
        return cls(sid, rid, result, dest, options)
