"""I2CP framing: ``length(4, BE, body only) | type(1) | body``.

:class:`FrameReader` is an incremental, sans-I/O reader. Bytes go in through
:meth:`FrameReader.feed` in chunks of any size; complete frames come out of
:meth:`FrameReader.next_frame`. Router input
never makes it raise: a frame whose declared body is larger than the limit becomes a
:class:`FrameError`, after which the reader is dead (the stream cannot be resynchronised) and
ignores further input.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "DEFAULT_MAX_BODY",
    "HEADER_LEN",
    "Frame",
    "FrameError",
    "FrameReader",
    "encode_frame",
]

#: Largest body a router accepts (i2pd ``I2CP_MAX_MESSAGE_LENGTH``); also our default read limit.
DEFAULT_MAX_BODY = 65535
#: Frame header length: 4-byte body length + 1-byte type.
HEADER_LEN = 5

_HEADER = struct.Struct(">IB")
_COMPACT_AT = 65536


@dataclass(frozen=True, slots=True)
class Frame:
    """One complete I2CP frame: the message type and its body (without the 5-byte header)."""

    msg_type: int
    body: bytes


@dataclass(frozen=True, slots=True)
class FrameError:
    """The byte stream stopped being valid I2CP framing; ``reason`` says why."""

    reason: str


def encode_frame(msg_type: int, body: bytes) -> bytes:
    """Return the frame (header + body) for ``body`` of message type ``msg_type``.

    Raises ``ValueError`` when the type is not one byte or the body exceeds 65535 bytes.
    """
    if not 0 <= msg_type <= 255:
        raise ValueError(f"I2CP message type {msg_type} is not a byte")
    if len(body) > DEFAULT_MAX_BODY:
        raise ValueError(f"I2CP message body of {len(body)} bytes exceeds {DEFAULT_MAX_BODY}")
    return _HEADER.pack(len(body), msg_type) + body


class FrameReader:
    """Incremental frame reader with a body-size limit.

    The internal buffer holds at most one partial frame plus the unread part of the last chunk
    fed, so memory is bounded by ``max_body`` plus the caller's chunk size.
    """

    __slots__ = ("_buf", "_error", "_pos", "max_body")

    def __init__(self, max_body: int = DEFAULT_MAX_BODY) -> None:
        if max_body < 0:
            raise ValueError("max_body must be >= 0")
        self.max_body = max_body
        self._buf = bytearray()
        self._pos = 0
        self._error: FrameError | None = None

    @property
    def error(self) -> FrameError | None:
        """The framing error that killed this reader, or ``None`` while it is healthy."""
        return self._error

    @property
    def buffered(self) -> int:
        """Number of bytes received but not yet returned as a frame."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append received bytes. Ignored once the reader has failed."""
        if self._error is not None or not data:
            return
        if self._pos and (self._pos >= _COMPACT_AT or self._pos == len(self._buf)):
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    def next_frame(self) -> Frame | FrameError | None:
        """Return the next complete frame, the :class:`FrameError` (once), or ``None``.

        ``None`` means more bytes are needed (or the reader already reported its error).
        """
        if self._error is not None:
            return None
        buf = self._buf
        pos = self._pos
        if len(buf) - pos < HEADER_LEN:
            return None
        length, msg_type = _HEADER.unpack_from(buf, pos)
        if length > self.max_body:
            self._error = FrameError(
                f"frame of type {msg_type} declares a {length}-byte body, "
                f"more than the {self.max_body}-byte limit"
            )
            self._buf = bytearray()
            self._pos = 0
            return self._error
        end = pos + HEADER_LEN + length
        if len(buf) < end:
            return None
        with memoryview(buf) as view:
            body = bytes(view[pos + HEADER_LEN : end])
        self._pos = end
        return Frame(msg_type, body)

    def eof_error(self) -> FrameError | None:
        """Describe the truncation if the stream ended in the middle of a frame, else ``None``."""
        left = self.buffered
        if self._error is not None or left == 0:
            return None
        return FrameError(f"connection closed in the middle of a frame ({left} bytes pending)")
