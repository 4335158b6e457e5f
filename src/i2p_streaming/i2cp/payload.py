"""The I2P payload wrapper: one gzip member whose header carries ports and protocol.

Layout (RFC 1952 with repurposed header fields)::

    1F 8B 08 00 | srcPort(2, BE) | dstPort(2, BE) | XFL | protocol | deflate data | CRC32 | ISIZE

CRC32 and ISIZE are little-endian. Data is either deflated (raw deflate) or *stored* as exactly
one final stored block ``01 | LEN(2, LE) | ~LEN(2, LE) | data`` — the form i2pd's and Java's
fast paths expect. :func:`unwrap` verifies CRC32 and ISIZE and caps the decompressed size.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from i2p_streaming.errors import DataFormatError

__all__ = [
    "DEFAULT_MAX_SIZE",
    "HEADER_LEN",
    "MAX_STORED",
    "PROTO_ANY",
    "PROTO_DATAGRAM",
    "PROTO_DATAGRAM2",
    "PROTO_DATAGRAM3",
    "PROTO_RAW",
    "PROTO_STREAMING",
    "Unwrapped",
    "unwrap",
    "wrap",
]

PROTO_ANY = 0
PROTO_STREAMING = 6
PROTO_DATAGRAM = 17
PROTO_RAW = 18
PROTO_DATAGRAM2 = 19
PROTO_DATAGRAM3 = 20

#: Gzip header length (magic, CM, FLG, ports, XFL, protocol).
HEADER_LEN = 10
#: Largest payload a single stored block can carry.
MAX_STORED = 65535
#: Default cap on the decompressed size accepted by :func:`unwrap`.
DEFAULT_MAX_SIZE = 65536
#: Deflate level used when compressing (Java's MEDIUM_COMPRESSION).
DEFAULT_LEVEL = 3

_HDR = struct.Struct(">4sHHBB")
_MAGIC = b"\x1f\x8b\x08\x00"
_XFL = 2
_STORED = struct.Struct("<BHH")
_TRAILER = struct.Struct("<II")
_STORED_OVERHEAD = HEADER_LEN + _STORED.size + _TRAILER.size  # 23
_MIN_LEN = HEADER_LEN + 2 + _TRAILER.size  # smallest raw deflate stream is 2 bytes


@dataclass(frozen=True, slots=True)
class Unwrapped:
    """An unwrapped payload: the I2CP protocol byte, both ports and the original bytes."""

    protocol: int
    src_port: int
    dst_port: int
    data: bytes


def _check_port(name: str, value: int) -> None:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{name} {value} is not in 0..65535")


def wrap(
    data: bytes | bytearray | memoryview,
    *,
    protocol: int,
    src_port: int = 0,
    dst_port: int = 0,
    compress: bool = False,
    level: int = DEFAULT_LEVEL,
) -> bytes:
    """Return the gzip wrapper around ``data``.

    ``compress=False`` stores the data in one final stored block (at most 65535 bytes);
    ``compress=True`` deflates it at ``level``. Raises ``ValueError`` for out-of-range ports,
    protocol, or a stored payload that is too large.
    """
    _check_port("source port", src_port)
    _check_port("destination port", dst_port)
    if not 0 <= protocol <= 255:
        raise ValueError(f"protocol {protocol} is not in 0..255")
    size = len(data)
    header = _HDR.pack(_MAGIC, src_port, dst_port, _XFL, protocol)
    trailer = _TRAILER.pack(zlib.crc32(data), size & 0xFFFFFFFF)
    if compress:
        comp = zlib.compressobj(level, zlib.DEFLATED, -15)
        return b"".join((header, comp.compress(data), comp.flush(), trailer))
    if size > MAX_STORED:
        raise ValueError(f"{size} bytes do not fit one stored block (max {MAX_STORED})")
    return b"".join((header, _STORED.pack(1, size, size ^ 0xFFFF), data, trailer))


def unwrap(blob: bytes | bytearray | memoryview, *, max_size: int = DEFAULT_MAX_SIZE) -> Unwrapped:
    """Parse and verify a wrapped payload.

    Checks the gzip magic, FLG == 0, the deflate stream, CRC32 and ISIZE, and that the
    decompressed size is at most ``max_size``. Raises :class:`DataFormatError` (only) on any
    problem; nothing in ``blob`` can make it allocate much more than ``max_size``.
    """
    total = len(blob)
    if total < _MIN_LEN:
        raise DataFormatError(f"gzip payload: {total} bytes is shorter than the minimum {_MIN_LEN}")
    magic, src_port, dst_port, _xfl, protocol = _HDR.unpack_from(blob, 0)
    if magic != _MAGIC:
        if magic[:3] != _MAGIC[:3]:
            raise DataFormatError("gzip payload: bad magic/compression method at offset 0")
        raise DataFormatError(f"gzip payload: unsupported FLG 0x{magic[3]:02x} at offset 3")
    view = memoryview(blob)
    if blob[HEADER_LEN] == 1 and total >= _STORED_OVERHEAD:
        _, n, nlen = _STORED.unpack_from(blob, HEADER_LEN)
        if n + _STORED_OVERHEAD == total:
            if nlen != n ^ 0xFFFF:
                raise DataFormatError("gzip payload: stored block NLEN mismatch at offset 13")
            if n > max_size:
                raise DataFormatError(f"gzip payload: {n} bytes exceed the {max_size}-byte cap")
            data = bytes(view[15 : 15 + n])
            _verify_trailer(blob, total - 8, data)
            return Unwrapped(protocol, src_port, dst_port, data)
    data = _inflate(view[HEADER_LEN:], max_size)
    _verify_trailer(blob, total - 8, data)
    return Unwrapped(protocol, src_port, dst_port, data)


def _inflate(stream: memoryview, max_size: int) -> bytes:
    inflater = zlib.decompressobj(-15)
    try:
        data = inflater.decompress(stream, max_size + 1)
    except zlib.error as exc:
        raise DataFormatError(
            f"gzip payload: bad deflate data at offset {HEADER_LEN}: {exc}"
        ) from None
    if len(data) > max_size:
        raise DataFormatError(f"gzip payload: decompresses to more than the {max_size}-byte cap")
    if not inflater.eof:
        raise DataFormatError("gzip payload: deflate stream is truncated")
    if len(inflater.unused_data) != _TRAILER.size:
        raise DataFormatError(
            f"gzip payload: {len(inflater.unused_data)} bytes after the deflate stream, expected 8"
        )
    return data


def _verify_trailer(blob: bytes | bytearray | memoryview, offset: int, data: bytes) -> None:
    crc, isize = _TRAILER.unpack_from(blob, offset)
    if isize != len(data) & 0xFFFFFFFF:
        raise DataFormatError(f"gzip payload: ISIZE {isize} != {len(data)} at offset {offset + 4}")
    if crc != zlib.crc32(data):
        raise DataFormatError(f"gzip payload: CRC32 mismatch at offset {offset}")
