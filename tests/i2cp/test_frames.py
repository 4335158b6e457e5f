"""Incremental I2CP frame reader."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from i2p_streaming.i2cp.frames import Frame, FrameError, FrameReader, encode_frame


def _drain(reader: FrameReader) -> list[Frame | FrameError]:
    out: list[Frame | FrameError] = []
    while (item := reader.next_frame()) is not None:
        out.append(item)
    return out


def test_encode_frame_golden() -> None:
    assert encode_frame(20, b"\x12\x34\x01") == b"\x00\x00\x00\x03\x14\x12\x34\x01"
    with pytest.raises(ValueError, match="byte"):
        encode_frame(256, b"")
    with pytest.raises(ValueError, match="exceeds"):
        encode_frame(5, bytes(65536))


def test_byte_by_byte_and_batched() -> None:
    frames = [Frame(i % 256, bytes([i]) * i) for i in range(50)]
    stream = b"".join(encode_frame(f.msg_type, f.body) for f in frames)
    reader = FrameReader()
    got: list[Frame | FrameError] = []
    for b in stream:
        reader.feed(bytes([b]))
        got += _drain(reader)
    assert got == frames
    reader.feed(stream)
    assert _drain(reader) == frames
    assert reader.buffered == 0
    assert reader.eof_error() is None


def test_large_stream_compacts() -> None:
    body = bytes(60000)
    reader = FrameReader()
    reader.feed(encode_frame(1, body) * 5 + b"\x00\x00")
    assert list(_drain(reader)) == [Frame(1, body)] * 5
    reader.feed(b"\x00\x01\x07x")
    assert _drain(reader) == [Frame(7, b"x")]


def test_oversized_frame_kills_reader() -> None:
    reader = FrameReader(max_body=10)
    reader.feed(encode_frame(1, b"ok") + b"\x00\x00\x00\x0b\x01" + bytes(11))
    out = _drain(reader)
    assert out[0] == Frame(1, b"ok")
    assert isinstance(out[1], FrameError)
    assert "11-byte body" in out[1].reason
    assert reader.error is out[1]
    reader.feed(encode_frame(1, b"later"))
    assert _drain(reader) == []
    assert reader.eof_error() is None


def test_truncated_frame_at_eof() -> None:
    reader = FrameReader()
    reader.feed(encode_frame(1, b"abc")[:-1])
    assert _drain(reader) == []
    err = reader.eof_error()
    assert err is not None
    assert "7 bytes pending" in err.reason
    with pytest.raises(ValueError, match="max_body"):
        FrameReader(-1)


@settings(max_examples=200, deadline=None)
@given(
    bodies=st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=300)), max_size=20),
    seed=st.integers(0, 2**32),
)
def test_random_chunking(bodies: list[tuple[int, bytes]], seed: int) -> None:
    stream = b"".join(encode_frame(t, b) for t, b in bodies)
    rng = random.Random(seed)
    reader = FrameReader()
    got: list[Frame | FrameError] = []
    pos = 0
    while pos < len(stream):
        n = rng.randint(1, 64)
        reader.feed(memoryview(stream)[pos : pos + n])
        pos += n
        got += _drain(reader)
    assert got == [Frame(t, b) for t, b in bodies]


@settings(max_examples=300, deadline=None)
@given(garbage=st.binary(max_size=400), limit=st.integers(0, 300))
def test_garbage_never_raises(garbage: bytes, limit: int) -> None:
    reader = FrameReader(max_body=limit)
    reader.feed(garbage)
    for item in _drain(reader):
        assert isinstance(item, Frame | FrameError)
        if isinstance(item, Frame):
            assert len(item.body) <= limit
    reader.eof_error()
