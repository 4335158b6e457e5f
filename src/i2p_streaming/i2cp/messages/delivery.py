"""Payload delivery: SendMessage(Expires) out, MessagePayload and MessageStatus in.

:func:`send_message_frame` is THE SendMessage encoder: the message classes, the sans-I/O session
(per packet, the hot path) and anything else that sends a payload use it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from i2p_streaming.data import Destination
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp.frames import DEFAULT_MAX_BODY, HEADER_LEN
from i2p_streaming.i2cp.messages.base import Message, u16, u32
from i2p_streaming.i2cp.reader import MessageReader as _Reader

__all__ = [
    "SEND_MESSAGE",
    "SEND_MESSAGE_EXPIRES",
    "MessagePayload",
    "MessageStatus",
    "SendMessage",
    "SendMessageExpires",
    "send_message_frame",
]

SEND_MESSAGE = 5
SEND_MESSAGE_EXPIRES = 36
_FRAME_HEAD = struct.Struct(">IB")
_SID = struct.Struct(">H")
_U32 = struct.Struct(">I")


def send_message_frame(
    session_id: int,
    destination: bytes,
    payload: bytes | bytearray | memoryview,
    nonce: int,
    *,
    expires: bool = False,
    flags: int = 0,
    expiration_ms: int = 0,
) -> bytes:
    """The complete frame (header + body) of a SendMessage, or of a SendMessageExpires (with
    ``flags(2) | expiration(6, ms)``) when ``expires``. ``destination`` is the encoded
    Destination, ``payload`` the gzip-wrapped I2CP payload.

    Raises ``ValueError`` when the body would not fit in one frame.
    """
    tail = ((flags << 48) | expiration_ms).to_bytes(8, "big") if expires else b""
    size = 2 + len(destination) + 4 + len(payload) + 4 + len(tail)
    if size > DEFAULT_MAX_BODY:
        raise ValueError(f"payload of {len(payload)} bytes is too large for one I2CP frame")
    return b"".join(
        (
            _FRAME_HEAD.pack(size, SEND_MESSAGE_EXPIRES if expires else SEND_MESSAGE),
            _SID.pack(session_id),
            destination,
            _U32.pack(len(payload)),
            payload,
            _U32.pack(nonce),
            tail,
        )
    )


@dataclass(frozen=True, slots=True)
class SendMessage(Message):
    TYPE: ClassVar[int] = SEND_MESSAGE
    session_id: int
    destination: Destination
    payload: bytes
    nonce: int

    def encode(self) -> bytes:
        frame = send_message_frame(
            self.session_id, self.destination.to_bytes(), self.payload, self.nonce
        )
        return frame[HEADER_LEN:]

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, cls.__name__)
        msg = cls(r.uint(2, "session id"), r.destination(), r.payload(), r.uint(4, "nonce"))
        r.done()
        return msg


@dataclass(frozen=True, slots=True)
class SendMessageExpires(Message):
    """SendMessage plus ``flags(2) | expiration(6, ms)``; expiration 0 = router default."""

    TYPE: ClassVar[int] = SEND_MESSAGE_EXPIRES
    session_id: int
    destination: Destination
    payload: bytes
    nonce: int
    flags: int = 0
    expiration_ms: int = 0

    def encode(self) -> bytes:
        frame = send_message_frame(
            self.session_id,
            self.destination.to_bytes(),
            self.payload,
            self.nonce,
            expires=True,
            flags=self.flags,
            expiration_ms=self.expiration_ms,
        )
        return frame[HEADER_LEN:]

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


@dataclass(frozen=True, slots=True)
class MessagePayload(Message):
    TYPE: ClassVar[int] = 31
    session_id: int
    message_id: int
    payload: bytes

    def encode(self) -> bytes:
        return b"".join(
            (u16(self.session_id), u32(self.message_id), u32(len(self.payload)), self.payload)
        )

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "MessagePayload")
        msg = cls(r.uint(2, "session id"), r.uint(4, "message id"), r.payload())
        r.done()
        return msg
