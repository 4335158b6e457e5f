"""The I2P gzip payload wrapper: golden bytes, round trips, hostile input."""

from __future__ import annotations

import contextlib
import gzip
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp.payload import Unwrapped, unwrap, wrap


def test_stored_golden_bytes() -> None:
    blob = wrap(b"abc", protocol=6, src_port=0x1234, dst_port=0x5678)
    crc = zlib.crc32(b"abc")
    expected = (
        bytes.fromhex("1f8b0800 1234 5678 02 06".replace(" ", ""))
        + bytes.fromhex("01 0300 fcff".replace(" ", ""))
        + b"abc"
        + struct.pack("<II", crc, 3)
    )
    assert blob == expected
    assert len(blob) == 3 + 23
    assert unwrap(blob) == Unwrapped(6, 0x1234, 0x5678, b"abc")


def test_compressed_is_standard_gzip_and_round_trips() -> None:
    data = b"hello " * 200
    blob = wrap(data, protocol=18, src_port=1, dst_port=2, compress=True)
    assert len(blob) < len(data)
    assert blob[:4] == b"\x1f\x8b\x08\x00"
    assert blob[8:10] == b"\x02\x12"
    assert gzip.decompress(blob) == data
    assert unwrap(blob) == Unwrapped(18, 1, 2, data)


def test_empty_payload_both_forms() -> None:
    for compress in (False, True):
        assert unwrap(wrap(b"", protocol=0, compress=compress)).data == b""


def test_python_gzip_output_is_accepted() -> None:
    data = bytes(range(256)) * 10
    blob = bytearray(gzip.compress(data, mtime=0))
    blob[4:10] = b"\x00\x07\x00\x09\x00\x06"
    assert unwrap(bytes(blob)) == Unwrapped(6, 7, 9, data)


def test_wrap_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="source port"):
        wrap(b"", protocol=6, src_port=65536)
    with pytest.raises(ValueError, match="destination port"):
        wrap(b"", protocol=6, dst_port=-1)
    with pytest.raises(ValueError, match="protocol"):
        wrap(b"", protocol=256)
    with pytest.raises(ValueError, match="stored block"):
        wrap(bytes(65536), protocol=6)
    assert unwrap(wrap(bytes(65536), protocol=6, compress=True)).data == bytes(65536)


def _stored(
    data: bytes, *, nlen: int | None = None, crc: int | None = None, size: int | None = None
) -> bytes:
    n = len(data)
    return (
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x06"
        + struct.pack("<BHH", 1, n, (n ^ 0xFFFF) if nlen is None else nlen)
        + data
        + struct.pack("<II", zlib.crc32(data) if crc is None else crc, n if size is None else size)
    )


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"\x1f\x8b", "shorter"),
        (b"\x1f\x8b\x09\x00" + bytes(20), "magic"),
        (b"\x1f\x8b\x08\x08" + bytes(20), "FLG"),
        (_stored(b"xyz", nlen=0), "NLEN"),
        (_stored(b"xyz", crc=1), "CRC32"),
        (_stored(b"xyz", size=4), "ISIZE"),
        (_stored(b"xyz") + b"\x00", "after the deflate stream"),
        (_stored(b"xyz" * 10)[:30], "truncated"),
        (b"\x1f\x8b\x08\x00" + bytes(6) + b"\x07" + bytes(12), "bad deflate"),
    ],
)
def test_unwrap_rejects(blob: bytes, message: str) -> None:
    with pytest.raises(DataFormatError, match=message):
        unwrap(blob)


def test_size_cap_stored_and_compressed() -> None:
    data = bytes(5000)
    with pytest.raises(DataFormatError, match="cap"):
        unwrap(wrap(data, protocol=6), max_size=4999)
    with pytest.raises(DataFormatError, match="cap"):
        unwrap(wrap(data, protocol=6, compress=True), max_size=4999)
    assert unwrap(wrap(data, protocol=6, compress=True), max_size=5000).data == data
    bomb = wrap(bytes(60_000), protocol=6, compress=True)
    with pytest.raises(DataFormatError, match="cap"):
        unwrap(bomb, max_size=1024)


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=3000),
    proto=st.integers(0, 255),
    sp=st.integers(0, 65535),
    dp=st.integers(0, 65535),
    compress=st.booleans(),
)
def test_round_trip(data: bytes, proto: int, sp: int, dp: int, compress: bool) -> None:
    blob = wrap(data, protocol=proto, src_port=sp, dst_port=dp, compress=compress)
    assert unwrap(blob) == Unwrapped(proto, sp, dp, data)
    assert unwrap(memoryview(blob)) == Unwrapped(proto, sp, dp, data)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_only_raises_data_format_error(blob: bytes) -> None:
    with contextlib.suppress(DataFormatError):
        unwrap(b"\x1f\x8b\x08\x00" + blob, max_size=1000)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(min_size=1, max_size=500), pos=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_bit_flips_never_escape(data: bytes, pos: int, bit: int) -> None:
    blob = bytearray(wrap(data, protocol=6, compress=len(data) % 2 == 0))
    blob[pos % len(blob)] ^= 1 << bit
    try:
        got = unwrap(bytes(blob))
    except DataFormatError:
        return
    # A flip in the port/protocol/XFL bytes is not covered by the CRC; the data must still be right.
    assert got.data == data
