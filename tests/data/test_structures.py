"""Mapping, Date, String, Lease and Lease2: golden bytes, round trips, limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from i2p_streaming.data import (
    Lease,
    Lease2,
    decode_date,
    decode_mapping,
    decode_string,
    encode_date,
    encode_mapping,
    encode_string,
)
from i2p_streaming.errors import DataFormatError

GW = bytes(range(32))

# ---------------------------------------------------------------- Mapping


def test_mapping_golden_sorted() -> None:
    raw = encode_mapping({"b": "2", "a": "1"})
    assert raw == bytes.fromhex("000c 01613d01313b 01623d01323b")
    assert decode_mapping(raw) == ({"a": "1", "b": "2"}, 14)


def test_mapping_empty_golden() -> None:
    assert encode_mapping({}) == b"\x00\x00"
    assert decode_mapping(b"\x00\x00\xff") == ({}, 2)


def test_mapping_unsorted_and_pairs() -> None:
    raw = encode_mapping([("b", "2"), ("a", "1")], sort=False)
    assert raw == bytes.fromhex("000c 01623d01323b 01613d01313b")
    decoded, used = decode_mapping(raw)
    assert list(decoded) == ["b", "a"]  # wire order preserved
    assert encode_mapping(decoded, sort=False) == raw
    assert used == len(raw)


def test_mapping_sort_is_java_string_order() -> None:
    # Java compareTo orders by UTF-16 code unit:
    # "B" < "a" < "ab" < "é" < U+10000 (surrogate D800) < U+FFFD
    keys = ["\ufffd", "\U00010000", "é", "ab", "a", "B"]
    decoded, _ = decode_mapping(encode_mapping(dict.fromkeys(keys, "")))
    assert list(decoded) == ["B", "a", "ab", "é", "\U00010000", "\ufffd"]


def test_mapping_utf8_golden() -> None:
    raw = encode_mapping({"é": "ü"})
    assert raw == bytes.fromhex("0008 02c3a93d 02c3bc3b")
    assert decode_mapping(raw)[0] == {"é": "ü"}


def test_mapping_with_offset() -> None:
    raw = b"\xff\xff" + encode_mapping({"k": "v"})
    assert decode_mapping(raw, 2) == ({"k": "v"}, 8)


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        ([("a", "1"), ("a", "2")], "duplicate key 'a'"),
        ({"k" * 256: "v"}, "256 UTF-8 bytes"),
        ({"k": "é" * 128}, "256 UTF-8 bytes"),
        ({"k": 1}, "expected str"),
        ({1: "v"}, "expected str"),
        ({"\ud800": "v"}, "not encodable"),
        ([("a",)], "not a (key, value) pair"),
        (5, "not a mapping"),
        ({f"{i:03}": "v" * 255 for i in range(300)}, "at most 65535"),
    ],
)
def test_mapping_encode_rejects(items: object, fragment: str) -> None:
    with pytest.raises(DataFormatError, match="Mapping") as info:
        encode_mapping(items)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_mapping_max_size_ok() -> None:
    # 255 entries of 1+3+1+1+250+1 = 257 bytes = 65535 bytes exactly
    items = {f"{i:03}": "v" * 250 for i in range(255)}
    raw = encode_mapping(items)
    assert len(raw) == 2 + 65535
    assert decode_mapping(raw) == (items, 65537)


@pytest.mark.parametrize(
    ("hexraw", "fragment"),
    [
        ("00", "truncated length at offset 0"),
        ("0007 01613d01313b", "length 7 exceeds the 6 bytes available at offset 2"),
        ("0006 01613e01313b", "expected '=' at offset 4"),
        ("0006 01613d013100", "expected ';' at offset 7"),
        ("0006 07613d01313b", "truncated key at offset 3: need 7 bytes, have 5"),
        ("000c 01613d01313b 01613d01323b", "duplicate key 'a' at offset 8"),
        ("0006 01ff3d01313b", "invalid UTF-8 at offset 3"),
        ("0007 01613d0231ff3b", "Mapping value: invalid UTF-8 at offset 7"),
        ("0002 0161", "truncated '=' at offset 4"),
    ],
)
def test_mapping_decode_rejects(hexraw: str, fragment: str) -> None:
    with pytest.raises(DataFormatError, match="Mapping") as info:
        decode_mapping(bytes.fromhex(hexraw))
    assert fragment in str(info.value)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=10))
def test_mapping_round_trip(items: dict[str, str]) -> None:
    raw = encode_mapping(items)
    decoded, used = decode_mapping(raw)
    assert decoded == items
    assert used == len(raw)
    assert encode_mapping(decoded, sort=False) == raw


# ---------------------------------------------------------------- Date / String


def test_date_golden() -> None:
    assert encode_date(1_700_000_000_000) == bytes.fromhex("0000018bcfe56800")
    assert decode_date(bytes.fromhex("000000018bcfe56800"), 1) == (1_700_000_000_000, 8)
    assert encode_date(0) == bytes(8)
    assert decode_date(b"\xff" * 8) == (2**64 - 1, 8)
    with pytest.raises(DataFormatError, match="Date"):
        encode_date(-1)
    with pytest.raises(DataFormatError, match="Date"):
        encode_date(2**64)
    with pytest.raises(DataFormatError, match="Date: truncated value at offset 0"):
        decode_date(b"\x00" * 7)


def test_string_golden() -> None:
    assert encode_string("abc") == b"\x03abc"
    assert encode_string("") == b"\x00"
    assert decode_string(b"\x03abcdef") == ("abc", 4)
    assert decode_string(b"xx\x02\xc3\xa9", 2) == ("é", 3)
    assert decode_string(encode_string("x" * 255)) == ("x" * 255, 256)
    with pytest.raises(DataFormatError, match="at most 255"):
        encode_string("x" * 256)
    with pytest.raises(DataFormatError, match="String: truncated text at offset 1"):
        decode_string(b"\x05abc")
    with pytest.raises(DataFormatError, match="String: invalid UTF-8 at offset 2"):
        decode_string(b"\x02a\xff")


# ---------------------------------------------------------------- Lease / Lease2


def test_lease_golden() -> None:
    lease = Lease(GW, 0x01020304, 1_700_000_000_123)
    raw = lease.to_bytes()
    assert raw == GW + bytes.fromhex("01020304 0000018bcfe5687b")
    assert len(raw) == 44
    assert Lease.from_bytes(b"\x00" + raw, 1) == (lease, 44)


def test_lease2_golden_and_from_lease() -> None:
    lease2 = Lease2(GW, 0x01020304, 1_700_000_000)
    raw = lease2.to_bytes()
    assert raw == GW + bytes.fromhex("01020304 6553f100")
    assert len(raw) == 40
    assert Lease2.from_bytes(raw) == (lease2, 40)
    assert Lease2.from_lease(Lease(GW, 0x01020304, 1_700_000_000_999)) == lease2


@pytest.mark.parametrize(
    "make",
    [
        lambda: Lease(b"short", 1, 1),
        lambda: Lease(GW, -1, 1),
        lambda: Lease(GW, 2**32, 1),
        lambda: Lease(GW, 1, 2**64),
        lambda: Lease2(GW, 1, 2**32),
        lambda: Lease2(bytearray(GW), 1, 1),  # type: ignore[arg-type]
    ],
)
def test_lease_validation(make: object) -> None:
    with pytest.raises(DataFormatError):
        make()  # type: ignore[operator]


def test_lease_truncated() -> None:
    with pytest.raises(DataFormatError, match="Lease: truncated end date at offset 36"):
        Lease.from_bytes(GW + b"\x00" * 11)
    with pytest.raises(DataFormatError, match="Lease2: truncated gateway at offset 0"):
        Lease2.from_bytes(b"\x00" * 10)
