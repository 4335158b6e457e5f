"""Messages of the older receive flow and abuse reports, still in the I2CP spec.

Without fast receive (``i2cp.fastReceive=false``) a router announces each payload with
MessageStatus(status 0, size); the client asks for it with :class:`ReceiveMessageBegin`, the
router sends MessagePayload, and the client releases it with :class:`ReceiveMessageEnd`.
:class:`ReportAbuse` (29) is defined in both directions and never acted upon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from i2p_streaming.data import encode_string
from i2p_streaming.i2cp.messages.base import Message, u16, u32
from i2p_streaming.i2cp.reader import MessageReader as _Reader

__all__ = ["ReceiveMessageBegin", "ReceiveMessageEnd", "ReportAbuse"]


@dataclass(frozen=True, slots=True)
class ReceiveMessageBegin(Message):
    """``SessionId | MessageId(4)``: send me the payload announced under ``message_id``."""

    TYPE: ClassVar[int] = 6
    session_id: int
    message_id: int

    def encode(self) -> bytes:
        return u16(self.session_id) + u32(self.message_id)

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, cls.__name__)
        msg = cls(r.uint(2, "session id"), r.uint(4, "message id"))
        r.done()
        return msg


@dataclass(frozen=True, slots=True)
class ReceiveMessageEnd(ReceiveMessageBegin):
    """``SessionId | MessageId(4)``: the payload is received, the router may forget it."""

    TYPE: ClassVar[int] = 7


@dataclass(frozen=True, slots=True)
class ReportAbuse(Message):
    """``SessionId | severity(1) | reason String | MessageId(4)`` (unused by both routers)."""

    TYPE: ClassVar[int] = 29
    session_id: int
    severity: int
    reason: str
    message_id: int

    def encode(self) -> bytes:
        return (
            u16(self.session_id)
            + bytes((self.severity,))
            + encode_string(self.reason)
            + u32(self.message_id)
        )

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, cls.__name__)
        msg = cls(r.uint(2, "session id"), r.uint(1, "severity"), r.string(), r.uint(4, "id"))
        r.done()
        return msg
