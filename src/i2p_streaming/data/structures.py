"""Small common structures: Mapping, Date, String, Lease, Lease2 (spec C.3, D.6)."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass

from i2p_streaming.data.base import Buffer, ByteReader
from i2p_streaming.errors import DataFormatError

__all__ = [
    "MAX_LEASES",
    "Lease",
    "Lease2",
    "decode_date",
    "decode_mapping",
    "decode_string",
    "encode_date",
    "encode_mapping",
    "encode_string",
    "mapping_sort_key",
]

MAX_LEASES = 16
_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF


def _utf8(s: object, what: str) -> bytes:
    if not isinstance(s, str):
        raise DataFormatError(f"{what}: expected str, got {type(s).__name__}")
    try:
        raw = s.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DataFormatError(f"{what}: not encodable as UTF-8 ({exc.reason})") from None
    if len(raw) > 255:
        raise DataFormatError(f"{what}: {len(raw)} UTF-8 bytes, at most 255 allowed")
    return raw


def _decode_utf8(raw: bytes, what: str, offset: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{what}: invalid UTF-8 at offset {offset + exc.start}") from None


def encode_string(s: str) -> bytes:
    """I2P String: 1 length byte + UTF-8. DataFormatError if longer than 255 bytes or not str."""
    raw = _utf8(s, "String")
    return bytes((len(raw),)) + raw


def decode_string(buf: Buffer, offset: int = 0) -> tuple[str, int]:
    """Parse an I2P String at ``offset``; return ``(text, bytes used)``. DataFormatError if bad."""
    r = ByteReader(buf, offset, "String")
    n = r.u8("length")
    start = r.pos
    return _decode_utf8(r.take(n, "text"), "String", start), r.pos - offset


def encode_date(ms: int) -> bytes:
    """I2P Date: 8-byte big-endian milliseconds since the epoch (0 = null).

    DataFormatError if ``ms`` is not an int in 0 .. 2**64-1.
    """
    if not isinstance(ms, int) or not 0 <= ms <= _U64:
        raise DataFormatError(f"Date: {ms!r} out of range")
    return ms.to_bytes(8, "big")


def decode_date(buf: Buffer, offset: int = 0) -> tuple[int, int]:
    """Parse an 8-byte Date; return ``(milliseconds, 8)``. DataFormatError if truncated."""
    r = ByteReader(buf, offset, "Date")
    return r.uint(8, "value"), 8


def mapping_sort_key(key: str) -> bytes:
    """Sort key matching Java ``String.compareTo`` (UTF-16 code-unit order)."""
    return key.encode("utf-16-be", "surrogatepass")


def encode_mapping(
    items: MappingABC[str, str] | Iterable[tuple[str, str]], *, sort: bool = True
) -> bytes:
    """Encode an I2P Mapping: 2-byte length then ``String(k) '=' String(v) ';'`` entries.

    Sorted by key in Java ``String.compareTo`` order unless ``sort=False`` (then in the given
    order). Raises DataFormatError for non-str keys/values, strings over 255 UTF-8 bytes,
    duplicate keys or a total over 65535 bytes.
    """
    try:
        pairs = list(items.items()) if isinstance(items, MappingABC) else list(items)
    except TypeError:
        raise DataFormatError(f"Mapping: {type(items).__name__} is not a mapping") from None
    encoded: list[tuple[bytes, bytes, str]] = []
    seen: set[str] = set()
    for pair in pairs:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise DataFormatError(f"Mapping: entry {pair!r} is not a (key, value) pair")
        key, value = pair
        raw_key = _utf8(key, f"Mapping key {key!r}")
        raw_value = _utf8(value, f"Mapping value for {key!r}")
        if key in seen:
            raise DataFormatError(f"Mapping: duplicate key {key!r}")
        seen.add(key)
        encoded.append((raw_key, raw_value, key))
    if sort:
        encoded.sort(key=lambda e: mapping_sort_key(e[2]))
    body = b"".join(
        bytes((len(k),)) + k + b"=" + bytes((len(v),)) + v + b";" for k, v, _ in encoded
    )
    if len(body) > 0xFFFF:
        raise DataFormatError(f"Mapping: {len(body)} bytes, at most 65535 allowed")
    return struct.pack(">H", len(body)) + body


def decode_mapping(buf: Buffer, offset: int = 0) -> tuple[dict[str, str], int]:
    """Parse an I2P Mapping; return ``(dict in wire order, bytes used)``.

    Raises DataFormatError (with the offset) if truncated, if a string runs past the mapping's
    length, if ``=``/``;`` are missing, on invalid UTF-8 or on a duplicate key.
    """
    head = ByteReader(buf, offset, "Mapping")
    size = head.u16("length")
    if size > head.remaining:
        raise head.fail(f"length {size} exceeds the {head.remaining} bytes available")
    r = ByteReader(head.buf, head.pos, "Mapping", end=head.pos + size)
    out: dict[str, str] = {}
    while r.remaining:
        key_at = r.pos
        key = _decode_utf8(r.take(r.u8("key length"), "key"), "Mapping key", key_at + 1)
        if r.u8("'='") != 0x3D:
            raise r.fail("expected '='", r.pos - 1)
        val_at = r.pos
        value = _decode_utf8(r.take(r.u8("value length"), "value"), "Mapping value", val_at + 1)
        if r.u8("';'") != 0x3B:
            raise r.fail("expected ';'", r.pos - 1)
        if key in out:
            raise DataFormatError(f"Mapping: duplicate key {key!r} at offset {key_at}")
        out[key] = value
    return out, 2 + size


def _check_lease_fields(what: str, gateway: bytes, tunnel_id: int, end: int, end_max: int) -> None:
    if not isinstance(gateway, bytes) or len(gateway) != 32:
        raise DataFormatError(f"{what}: gateway must be 32 bytes")
    if not isinstance(tunnel_id, int) or not 0 <= tunnel_id <= _U32:
        raise DataFormatError(f"{what}: tunnel id {tunnel_id!r} out of range")
    if not isinstance(end, int) or not 0 <= end <= end_max:
        raise DataFormatError(f"{what}: end date {end!r} out of range")


@dataclass(frozen=True, slots=True)
class Lease:
    """LS1 lease: ``gateway(32) | tunnel_id(4) | end_ms(8)`` = 44 bytes.

    Constructing one with out-of-range fields raises DataFormatError.
    """

    gateway: bytes
    tunnel_id: int
    end_ms: int

    def __post_init__(self) -> None:
        _check_lease_fields("Lease", self.gateway, self.tunnel_id, self.end_ms, _U64)

    def to_bytes(self) -> bytes:
        """Serialise to 44 bytes."""
        return self.gateway + struct.pack(">IQ", self.tunnel_id, self.end_ms)

    @classmethod
    def from_bytes(cls, buf: Buffer, offset: int = 0) -> tuple[Lease, int]:
        """Parse 44 bytes at ``offset``; return ``(lease, 44)``. DataFormatError if truncated."""
        r = ByteReader(buf, offset, "Lease")
        gateway = r.take(32, "gateway")
        tunnel_id = r.u32("tunnel id")
        return cls(gateway, tunnel_id, r.uint(8, "end date")), 44


@dataclass(frozen=True, slots=True)
class Lease2:
    """LS2 lease: ``gateway(32) | tunnel_id(4) | end(4, seconds)`` = 40 bytes.

    Constructing one with out-of-range fields raises DataFormatError.
    """

    gateway: bytes
    tunnel_id: int
    end: int

    def __post_init__(self) -> None:
        _check_lease_fields("Lease2", self.gateway, self.tunnel_id, self.end, _U32)

    def to_bytes(self) -> bytes:
        """Serialise to 40 bytes."""
        return self.gateway + struct.pack(">II", self.tunnel_id, self.end)

    @classmethod
    def from_bytes(cls, buf: Buffer, offset: int = 0) -> tuple[Lease2, int]:
        """Parse 40 bytes at ``offset``; return ``(lease, 40)``. DataFormatError if truncated."""
        r = ByteReader(buf, offset, "Lease2")
        gateway = r.take(32, "gateway")
        tunnel_id = r.u32("tunnel id")
        return cls(gateway, tunnel_id, r.u32("end date")), 40

    @classmethod
    def from_lease(cls, lease: Lease) -> Lease2:
        """Convert an LS1 lease (end in ms truncated to whole seconds, as Java does)."""
        return cls(lease.gateway, lease.tunnel_id, lease.end_ms // 1000)
