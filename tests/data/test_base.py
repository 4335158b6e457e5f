"""I2P Base64 and Base32 encodings."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from i2p_streaming.data import (
    b32_address,
    b32_address_to_hash,
    b32encode_hash,
    b64decode,
    b64encode,
    is_b32_address,
)
from i2p_streaming.data.base import ByteReader
from i2p_streaming.errors import DataFormatError


def test_b64_alphabet_uses_dash_and_tilde() -> None:
    assert b64encode(b"\xfb\xff\xbf") == "-~-~"
    assert b64decode("-~-~") == b"\xfb\xff\xbf"
    assert b64encode(b"") == ""
    assert b64decode("") == b""


@pytest.mark.parametrize(
    ("data", "text"),
    [(b"f", "Zg=="), (b"fo", "Zm8="), (b"foo", "Zm9v"), (b"\x00" * 4, "AAAAAA==")],
)
def test_b64_padding(data: bytes, text: str) -> None:
    assert b64encode(data) == text
    assert b64decode(text) == data


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("+/+/", "invalid character '+' at offset 0"),
        ("AB/C", "invalid character '/' at offset 2"),
        ("Zm9v\n", "invalid character '\\n' at offset 4"),
        ("Zm 9", "invalid character ' ' at offset 2"),
        ("Zg", "multiple of 4"),
        ("Zg=", "multiple of 4"),
        ("Z===", "bad padding"),
        ("Zg==Zg==", "bad padding"),
        ("Zh==", "non-canonical"),
        ("Zm9=", "non-canonical"),
        ("é123", "invalid character"),
    ],
)
def test_b64_strict_rejects(text: str, fragment: str) -> None:
    with pytest.raises(DataFormatError, match="base64") as info:
        b64decode(text)
    assert fragment in str(info.value)


def test_b64_rejects_non_str() -> None:
    with pytest.raises(DataFormatError):
        b64decode(b"Zm9v")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_b64_round_trip(data: bytes) -> None:
    text = b64encode(data)
    assert text == base64.b64encode(data).decode().replace("+", "-").replace("/", "~")
    assert b64decode(text) == data


def test_b32_known_value() -> None:
    h = hashlib.sha256(b"i2p").digest()
    expected = base64.b32encode(h).decode().rstrip("=").lower()
    assert b32encode_hash(h) == expected
    assert len(expected) == 52
    assert b32_address(h) == expected + ".b32.i2p"
    assert b32_address_to_hash(expected + ".b32.i2p") == h
    assert b32_address_to_hash(expected.upper() + ".B32.I2P") == h
    assert is_b32_address(expected + ".b32.i2p")


def test_b32_zero_hash() -> None:
    assert b32_address(bytes(32)) == "a" * 52 + ".b32.i2p"


@pytest.mark.parametrize(
    "addr",
    [
        "a" * 52,  # no suffix
        "a" * 51 + ".b32.i2p",
        "a" * 53 + ".b32.i2p",
        "a" * 56 + ".b32.i2p",  # b33
        "a" * 51 + "1.b32.i2p",  # '1' not in the alphabet
        "a" * 51 + "b.b32.i2p",  # unused low bits set
        "a" * 52 + ".i2p",
        "",
    ],
)
def test_b32_rejects(addr: str) -> None:
    with pytest.raises(DataFormatError, match="b32"):
        b32_address_to_hash(addr)
    assert not is_b32_address(addr)


def test_b32_rejects_bad_hash_length() -> None:
    with pytest.raises(DataFormatError):
        b32encode_hash(b"short")
    assert not is_b32_address(123)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_b32_round_trip(h: bytes) -> None:
    assert b32_address_to_hash(b32_address(h)) == h


def test_reader_bounds() -> None:
    r = ByteReader(b"\x01\x02\x03", 1, "Thing")
    assert r.u16("x") == 0x0203
    with pytest.raises(DataFormatError, match=r"Thing: truncated y at offset 3: need 1 bytes"):
        r.u8("y")
    with pytest.raises(DataFormatError, match="offset 4 outside"):
        ByteReader(b"abc", 4, "Thing")
    with pytest.raises(DataFormatError, match="offset -1 outside"):
        ByteReader(b"abc", -1, "Thing")
    assert ByteReader(memoryview(b"abcd")[1:], 0, "T").take(3, "z") == b"bcd"
