"""I2P text encodings (Base64 with ``-``/``~``, Base32 ``.b32.i2p`` addresses) and a bounded reader.

Everything here is pure: no I/O, no clock. Decoders are strict and raise only
:class:`~i2p_streaming.errors.DataFormatError`.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct

from i2p_streaming.errors import DataFormatError

__all__ = [
    "B32_SUFFIX",
    "ByteReader",
    "Buffer",
    "b32_address",
    "b32_address_to_hash",
    "b32encode_hash",
    "b64decode",
    "b64encode",
    "is_b32_address",
]

Buffer = bytes | bytearray | memoryview
"""Anything a parser accepts as input."""

B32_SUFFIX = ".b32.i2p"

_ALTCHARS = b"-~"
_B64_RE = re.compile(r"[A-Za-z0-9\-~]*={0,2}")
_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~")
_B32_RE = re.compile(r"[a-z2-7]{52}")


def b64encode(data: bytes) -> str:
    """Return ``data`` in I2P Base64 (RFC 4648 alphabet with ``-`` and ``~``, ``=`` padding)."""
    return base64.b64encode(bytes(data), altchars=_ALTCHARS).decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode strict I2P Base64.

    Raises DataFormatError for a non-str argument, a character outside the I2P alphabet
    (including whitespace, ``+`` and ``/``), a length that is not a multiple of 4, misplaced or
    excess ``=`` padding, or non-zero unused bits in the last character (non-canonical input).
    """
    if not isinstance(text, str):
        raise DataFormatError(f"base64: expected str, got {type(text).__name__}")
    if _B64_RE.fullmatch(text) is None:
        body = text.rstrip("=")
        for i, ch in enumerate(body):
            if ch == "=":
                raise DataFormatError(f"base64: bad padding: misplaced '=' at offset {i}")
            if ch not in _B64_CHARS:
                raise DataFormatError(f"base64: invalid character {ch!r} at offset {i}")
        raise DataFormatError(f"base64: bad padding at offset {len(body)}")
    if len(text) % 4:
        raise DataFormatError(f"base64: length {len(text)} is not a multiple of 4")
    try:
        raw = base64.b64decode(text, altchars=_ALTCHARS, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DataFormatError(f"base64: {exc}") from None
    if b64encode(raw) != text:
        raise DataFormatError("base64: non-canonical encoding (unused bits set or bad padding)")
    return raw


def b32encode_hash(h: bytes) -> str:
    """Return the 52 lower-case Base32 characters (no padding, no suffix) of a 32-byte hash.

    Raises DataFormatError when ``h`` is not 32 bytes.
    """
    if len(h) != 32:
        raise DataFormatError(f"b32: hash must be 32 bytes, got {len(h)}")
    return base64.b32encode(bytes(h)).decode("ascii").rstrip("=").lower()


def b32_address(h: bytes) -> str:
    """Return ``"<52 chars>.b32.i2p"`` for a 32-byte hash (DataFormatError if not 32 bytes)."""
    return b32encode_hash(h) + B32_SUFFIX


def b32_address_to_hash(addr: str) -> bytes:
    """Decode ``"<52 chars>.b32.i2p"`` (case-insensitive) to the 32-byte destination hash.

    Raises DataFormatError for a missing ``.b32.i2p`` suffix, a wrong length (including the
    56+ character "b33" encrypted-LeaseSet names), characters outside ``a-z2-7`` or a
    non-canonical last character.
    """
    if not isinstance(addr, str):
        raise DataFormatError(f"b32: expected str, got {type(addr).__name__}")
    low = addr.lower()
    if not low.endswith(B32_SUFFIX):
        raise DataFormatError(f"b32: address must end with {B32_SUFFIX!r}")
    name = low[: -len(B32_SUFFIX)]
    if len(name) != 52:
        raise DataFormatError(f"b32: expected 52 characters before the suffix, got {len(name)}")
    if _B32_RE.fullmatch(name) is None:
        bad = next(i for i, ch in enumerate(name) if ch not in "abcdefghijklmnopqrstuvwxyz234567")
        raise DataFormatError(f"b32: invalid character {name[bad]!r} at offset {bad}")
    try:
        raw = base64.b32decode(name.upper() + "====")
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - regex already checked
        raise DataFormatError(f"b32: {exc}") from None
    if len(raw) != 32 or b32encode_hash(raw) != name:
        raise DataFormatError("b32: non-canonical encoding (unused bits set)")
    return raw


def is_b32_address(text: str) -> bool:
    """True when ``text`` is a valid ``.b32.i2p`` address (52 characters + suffix)."""
    try:
        b32_address_to_hash(text)
    except DataFormatError:
        return False
    return True


class ByteReader:
    """Bounded big-endian reader over a peer buffer; every failure is a DataFormatError.

    ``what`` names the structure for error messages; offsets in messages are absolute
    offsets into ``buf``.
    """

    __slots__ = ("buf", "end", "pos", "what")

    def __init__(self, buf: Buffer, offset: int, what: str, end: int | None = None) -> None:
        mv = buf if isinstance(buf, memoryview) else memoryview(buf)
        if mv.ndim != 1 or mv.itemsize != 1:
            mv = mv.cast("B")
        self.buf = mv
        self.what = what
        limit = len(mv) if end is None else end
        if not isinstance(offset, int) or offset < 0 or offset > limit:
            raise DataFormatError(f"{what}: offset {offset} outside buffer of {limit} bytes")
        self.pos = offset
        self.end = limit

    @property
    def remaining(self) -> int:
        """Bytes left before ``end``."""
        return self.end - self.pos

    def take(self, n: int, field: str) -> bytes:
        """Return the next ``n`` bytes (copied) or raise DataFormatError if they are not there."""
        if n < 0 or self.pos + n > self.end:
            raise DataFormatError(
                f"{self.what}: truncated {field} at offset {self.pos}: "
                f"need {n} bytes, have {self.end - self.pos}"
            )
        data = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return data

    def uint(self, n: int, field: str) -> int:
        """Read an ``n``-byte big-endian unsigned integer."""
        return int.from_bytes(self.take(n, field), "big")

    def u8(self, field: str) -> int:
        """Read one byte."""
        return self.uint(1, field)

    def u16(self, field: str) -> int:
        """Read a 2-byte big-endian integer."""
        return int(struct.unpack(">H", self.take(2, field))[0])

    def u32(self, field: str) -> int:
        """Read a 4-byte big-endian integer."""
        return int(struct.unpack(">I", self.take(4, field))[0])

    def fail(self, message: str, at: int | None = None) -> DataFormatError:
        """Build (not raise) a DataFormatError naming the structure and offset."""
        where = self.pos if at is None else at
        return DataFormatError(f"{self.what}: {message} at offset {where}")
