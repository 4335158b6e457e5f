"""Codec for the I2CP messages a client sends or receives, in both directions.

Each message is a frozen slotted dataclass with a ``TYPE`` class constant, ``encode() -> bytes``
(the body, without the 5-byte frame header) and a ``decode(body)`` class method. Client-bound
messages encode and router-bound messages decode too, so an embedded router can reuse this
module. :func:`decode_message` maps a frame to a message; it raises only
:class:`~i2p_streaming.errors.DataFormatError`, and returns :class:`UnknownMessage` for types it
does not know.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar, Self

from i2p_streaming.data import (
    Destination,
    Lease,
    LeaseSet2,
    encode_date,
    encode_mapping,
    encode_string,
)
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp.frames import encode_frame
from i2p_streaming.i2cp.reader import MessageReader as _Reader
from i2p_streaming.i2cp.sessionconfig import (
    TRANSIENT_KEY_OPTION,
    SessionConfig,
    offline_session_options,
)

__all__ = [
    "NO_SESSION",
    "BandwidthLimits",
    "CreateLeaseSet",
    "CreateLeaseSet2",
    "CreateSession",
    "DestLookup",
    "DestReply",
    "DestroySession",
    "Disconnect",
    "GetBandwidthLimits",
    "GetDate",
    "HostLookup",
    "HostReply",
    "Message",
    "MessagePayload",
    "MessageStatus",
    "ReconfigureSession",
    "RequestVariableLeaseSet",
    "SendMessage",
    "SendMessageExpires",
    "SessionConfig",
    "SessionStatus",
    "TRANSIENT_KEY_OPTION",
    "SetDate",
    "UnknownMessage",
    "decode_message",
    "encode_message",
    "offline_session_options",
]

#: SessionId meaning "no session" (HostLookup before a session exists).
NO_SESSION = 0xFFFF
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


def _u16(v: int) -> bytes:
    return _U16.pack(v)


def _u32(v: int) -> bytes:
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
        return _u16(self.session_id) + self.config.to_bytes()

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "ReconfigureSession")
        msg = cls(r.uint(2, "session id"), SessionConfig._read(r))
        r.done()
        return msg


@dataclass(frozen=True, slots=True)
class _SessionOnly(Message):
    session_id: int

    def encode(self) -> bytes:
        return _u16(self.session_id)

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, cls.__name__)
        msg = cls(r.uint(2, "session id"))
        r.done()
        return msg


@dataclass(frozen=True, slots=True)
class DestroySession(_SessionOnly):
    TYPE: ClassVar[int] = 3


@dataclass(frozen=True, slots=True)
class CreateLeaseSet(Message):
    """Legacy (LS1) lease set: kept as raw bytes; this client never sends it."""

    TYPE: ClassVar[int] = 4
    session_id: int
    signing_private_key: bytes  # 20 bytes
    private_key: bytes  # 256-byte ElGamal key
    lease_set: bytes

    def encode(self) -> bytes:
        if len(self.signing_private_key) != 20 or len(self.private_key) != 256:
            raise ValueError("CreateLeaseSet needs a 20-byte and a 256-byte private key")
        return _u16(self.session_id) + self.signing_private_key + self.private_key + self.lease_set

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "CreateLeaseSet")
        return cls(r.uint(2, "session id"), r.take(20, "signing key"), r.take(256, "key"), r.rest())


@dataclass(frozen=True, slots=True)
class SendMessage(Message):
    TYPE: ClassVar[int] = 5
    session_id: int
    destination: Destination
    payload: bytes
    nonce: int

    def encode(self) -> bytes:
        return b"".join(
            (
                _u16(self.session_id),
                self.destination.to_bytes(),
                _u32(len(self.payload)),
                self.payload,
                _u32(self.nonce),
            )
        )

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, cls.__name__)
        msg = cls(r.uint(2, "session id"), r.destination(), r.payload(), r.uint(4, "nonce"))
        r.done()
        return msg


@dataclass(frozen=True, slots=True)
class SendMessageExpires(Message):
    """SendMessage plus ``flags(2) | expiration(6, ms)``; expiration 0 = router default."""

    TYPE: ClassVar[int] = 36
    session_id: int
    destination: Destination
    payload: bytes
    nonce: int
    flags: int = 0
    expiration_ms: int = 0

    def encode(self) -> bytes:
        tail = (self.flags << 48) | self.expiration_ms
        return b"".join(
            (
                _u16(self.session_id),
                self.destination.to_bytes(),
                _u32(len(self.payload)),
                self.payload,
                _u32(self.nonce),
                tail.to_bytes(8, "big"),
            )
        )

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "SendMessageExpires")
        sid, dest, payload, nonce = (
            r.uint(2, "session id"),
            r.destination(),
            r.payload(),
            r.uint(4, "nonce"),
        )
        msg = cls(sid, dest, payload, nonce, r.uint(2, "flags"), r.uint(6, "expiration"))
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
        return _u16(self.session_id) + bytes((self.status,))

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "SessionStatus")
        msg = cls(r.uint(2, "session id"), r.uint(1, "status"))
        r.done()
        return msg


_MSG_STATUS = struct.Struct(">HIBII")


@dataclass(frozen=True, slots=True)
class MessageStatus(Message):
    TYPE: ClassVar[int] = 22
    session_id: int
    message_id: int
    status: int
    size: int
    nonce: int

    def encode(self) -> bytes:
        return _MSG_STATUS.pack(
            self.session_id, self.message_id, self.status, self.size, self.nonce
        )

    @classmethod
    def decode(cls, body: bytes) -> Self:
        if len(body) != _MSG_STATUS.size:
            raise DataFormatError(f"MessageStatus: body is {len(body)} bytes, expected 15")
        return cls(*_MSG_STATUS.unpack(body))


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
class MessagePayload(Message):
    TYPE: ClassVar[int] = 31
    session_id: int
    message_id: int
    payload: bytes

    def encode(self) -> bytes:
        return b"".join(
            (_u16(self.session_id), _u32(self.message_id), _u32(len(self.payload)), self.payload)
        )

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "MessagePayload")
        msg = cls(r.uint(2, "session id"), r.uint(4, "message id"), r.payload())
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
class RequestVariableLeaseSet(Message):
    TYPE: ClassVar[int] = 37
    session_id: int
    leases: tuple[Lease, ...]

    def encode(self) -> bytes:
        parts = [_u16(self.session_id), bytes((len(self.leases),))]
        parts.extend(lease.to_bytes() for lease in self.leases)
        return b"".join(parts)

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "RequestVariableLeaseSet")
        sid = r.uint(2, "session id")
        count = r.uint(1, "lease count")
        leases = tuple(r.parse(Lease.from_bytes) for _ in range(count))
        r.done()
        return cls(sid, leases)


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
        head = _u16(self.session_id) + _u32(self.request_id) + _u32(self.timeout_ms)
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
        body = _u16(self.session_id) + _u32(self.request_id) + bytes((self.result,))
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


@dataclass(frozen=True, slots=True)
class CreateLeaseSet2(Message):
    """``SessionId | type(1)=3 | LeaseSet2 | n | n x (encType(2) len(2) key)``."""

    TYPE: ClassVar[int] = 41
    session_id: int
    lease_set: LeaseSet2
    private_keys: tuple[tuple[int, bytes], ...] = field(default=())

    def encode(self) -> bytes:
        parts = [_u16(self.session_id), b"\x03", self.lease_set.to_bytes()]
        parts.append(bytes((len(self.private_keys),)))
        for enc_type, key in self.private_keys:
            parts.append(_u16(enc_type) + _u16(len(key)) + key)
        return b"".join(parts)

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "CreateLeaseSet2")
        sid = r.uint(2, "session id")
        ls_type = r.uint(1, "lease set type")
        if ls_type != 3:
            raise DataFormatError(
                f"CreateLeaseSet2: unsupported lease set type {ls_type} at offset 2"
            )
        lease_set = r.parse(LeaseSet2.from_bytes)
        keys = []
        for _ in range(r.uint(1, "private key count")):
            enc_type = r.uint(2, "encryption type")
            keys.append((enc_type, r.take(r.uint(2, "key length"), "private key")))
        r.done()
        return cls(sid, lease_set, tuple(keys))


_MESSAGE_TYPES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        CreateSession,
        ReconfigureSession,
        DestroySession,
        CreateLeaseSet,
        SendMessage,
        GetBandwidthLimits,
        SessionStatus,
        MessageStatus,
        BandwidthLimits,
        Disconnect,
        MessagePayload,
        GetDate,
        SetDate,
        DestLookup,
        DestReply,
        SendMessageExpires,
        RequestVariableLeaseSet,
        HostLookup,
        HostReply,
        CreateLeaseSet2,
    )
}


def decode_message(msg_type: int, body: bytes) -> Message:
    """Decode one frame body. Unknown types give :class:`UnknownMessage`.

    Raises DataFormatError (only) when a known message is malformed.
    """
    cls = _MESSAGE_TYPES.get(msg_type)
    if cls is None:
        return UnknownMessage(msg_type, body)
    try:
        return cls.decode(body)
    except DataFormatError:
        raise
    except (ValueError, IndexError, OverflowError) as exc:  # defensive: structure parsers
        raise DataFormatError(f"{cls.__name__}: {exc}") from None


def encode_message(msg: Message) -> bytes:
    """Return the complete frame (header + body) for ``msg``."""
    if isinstance(msg, UnknownMessage):
        return encode_frame(msg.msg_type, msg.body)
    return encode_frame(msg.TYPE, msg.encode())
