"""A bounded reader over an I2CP message body (every failure is a DataFormatError)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from i2p_streaming.data import Destination, decode_date, decode_mapping, decode_string
from i2p_streaming.data.base import ByteReader
from i2p_streaming.errors import DataFormatError

__all__ = ["MessageReader"]

_T = TypeVar("_T")


class MessageReader(ByteReader):
    """:class:`~i2p_streaming.data.base.ByteReader` plus the I2CP field types (Destination,
    Mapping, String, Date, length-prefixed Payload) and an end-of-body check."""

    __slots__ = ()

    def __init__(self, body: bytes, name: str) -> None:
        super().__init__(body, 0, name)

    def parse(self, fn: Callable[[memoryview, int], tuple[_T, int]]) -> _T:
        """Run a data-layer parser ``fn(buf, offset) -> (value, bytes used)`` at the cursor."""
        value, used = fn(self.buf, self.pos)
        self.pos += used
        return value

    def destination(self) -> Destination:
        return self.parse(Destination.from_bytes)

    def mapping(self) -> dict[str, str]:
        return self.parse(decode_mapping)

    def string(self) -> str:
        return self.parse(decode_string)

    def date(self) -> int:
        return self.parse(decode_date)

    def rest(self) -> bytes:
        """Everything up to the end of the body."""
        return self.take(self.end - self.pos, "rest")

    def payload(self) -> bytes:
        """A Payload: 4-byte length, then that many bytes."""
        return self.take(self.uint(4, "payload length"), "payload")

    def done(self) -> None:
        """Raise unless the whole body was read."""
        if self.pos != self.end:
            raise DataFormatError(
                f"{self.what}: {self.end - self.pos} unexpected trailing bytes at offset {self.pos}"
            )
