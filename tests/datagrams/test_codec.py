"""The four datagram formats: byte layouts, signatures of every type the data layer verifies,
offline keys, and the parsers' errors on truncated or foreign input."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fuzz.keys import TRANSIENT_EXPIRES, keys_for, offline_keys_for

from i2p_streaming.data import Destination, EncType, SigType, encode_mapping
from i2p_streaming.datagrams import (
    MAX_DATAGRAM_SIZE,
    DatagramKind,
    encode_datagram2,
    encode_datagram3,
    encode_repliable,
    max_payload,
    overhead,
    parse_datagram2,
    parse_datagram3,
    parse_repliable,
    verify_datagram2,
    verify_repliable,
)
from i2p_streaming.errors import DataFormatError

pytestmark = pytest.mark.timeout(30)

SIGNABLE = [t for t in SigType if t.can_sign]
TARGET = hashlib.sha256(b"the receiving destination").digest()
NOW = 1_800_000_000.0


def test_kinds_and_protocol_numbers() -> None:
    assert [k.protocol for k in DatagramKind] == [17, 18, 19, 20]
    assert DatagramKind("datagram2") is DatagramKind.DATAGRAM2
    assert DatagramKind.from_protocol(6) is None
    assert DatagramKind.from_protocol(20) is DatagramKind.DATAGRAM3
    assert not DatagramKind.RAW.repliable and DatagramKind.DATAGRAM3.repliable


@pytest.mark.parametrize("sig_type", SIGNABLE, ids=lambda t: t.name)
def test_repliable_round_trip_for_every_signable_type(sig_type: SigType) -> None:
    keys = keys_for(sig_type)
    wire = encode_repliable(keys, b"hello")
    assert len(wire) == overhead(DatagramKind.REPLIABLE, keys) + 5
    dest, signature, payload = parse_repliable(wire)
    assert dest == keys.destination and payload == b"hello"
    assert verify_repliable(dest, signature, payload)
    assert not verify_repliable(dest, signature, b"hellO")


def test_repliable_dsa_signs_the_sha256_of_the_payload() -> None:
    keys = keys_for(SigType.DSA_SHA1)
    dest, signature, payload = parse_repliable(encode_repliable(keys, b"x" * 100))
    assert dest.verify(hashlib.sha256(payload).digest(), signature)
    assert not dest.verify(payload, signature)
    ed = keys_for()
    dest, signature, payload = parse_repliable(encode_repliable(ed, b"x" * 100))
    assert dest.verify(payload, signature)


def test_repliable_rsa_is_verified() -> None:
    """RSA destinations cannot be made here but their datagrams must verify."""
    key = rsa.generate_private_key(65537, 2048)
    modulus = key.public_key().public_numbers().n.to_bytes(256, "big")
    dest = Destination.build(bytes(256), modulus, SigType.RSA_SHA256_2048, EncType.ELGAMAL)
    sig = key.sign(b"payload", padding.PKCS1v15(), hashes.SHA256())
    wire = dest.to_bytes() + sig + b"payload"
    parsed, signature, payload = parse_repliable(wire)
    assert parsed == dest and verify_repliable(parsed, signature, payload)
    assert not verify_repliable(parsed, signature, b"Payload")


def test_repliable_refuses_offline_keys() -> None:
    with pytest.raises(ValueError, match="datagram2"):
        encode_repliable(offline_keys_for(), b"x")


def test_repliable_truncations_are_data_format_errors() -> None:
    wire = encode_repliable(keys_for(), b"")
    assert parse_repliable(wire)[2] == b""
    for cut in (0, 10, 390, len(wire) - 1):
        with pytest.raises(DataFormatError):
            parse_repliable(wire[:cut])


@pytest.mark.parametrize("sig_type", SIGNABLE, ids=lambda t: t.name)
def test_datagram2_round_trip_covers_the_target_hash(sig_type: SigType) -> None:
    keys = keys_for(sig_type)
    wire = encode_datagram2(keys, b"data", TARGET)
    assert len(wire) == overhead(DatagramKind.DATAGRAM2, keys) + 4
    parts = parse_datagram2(wire)
    assert parts.sender == keys.destination and parts.payload == b"data"
    assert parts.flags == 2 and parts.options == {} and parts.offline is None
    assert verify_datagram2(parts, TARGET, NOW)
    assert not verify_datagram2(parts, bytes(32), NOW)  # signed for someone else
    assert not verify_datagram2(parts, keys.destination.hash, NOW)


def test_datagram2_signature_layout_is_the_specs() -> None:
    """signature over target hash | flags | options | payload; DSA signs the bytes (no hash)."""
    keys = keys_for(SigType.DSA_SHA1)
    wire = encode_datagram2(keys, b"p", TARGET, {"a": "b"})
    dest_len = len(keys.destination)
    flags = wire[dest_len : dest_len + 2]
    assert flags == b"\x00\x12"
    mapping = encode_mapping({"a": "b"})
    assert wire[dest_len + 2 : dest_len + 2 + len(mapping)] == mapping
    signed = TARGET + flags + mapping + b"p"
    assert keys.destination.verify(signed, wire[-40:])
    parts = parse_datagram2(wire)
    assert parts.options == {"a": "b"} and parts.payload == b"p"


def test_datagram2_with_offline_keys() -> None:
    keys = offline_keys_for()
    wire = encode_datagram2(keys, b"offline", TARGET)
    parts = parse_datagram2(wire)
    assert parts.flags & 0x20 and parts.offline == keys.offline
    assert verify_datagram2(parts, TARGET, NOW)
    assert not verify_datagram2(parts, TARGET, TRANSIENT_EXPIRES + 1.0)  # expired block
    # a transient key certified by another destination does not verify
    other = keys_for(label="b").with_offline_signature(SigType.EdDSA_SHA512_Ed25519, 2**31)
    assert other.offline is not None
    forged = bytearray(wire)
    start = len(keys.destination) + 2
    forged[start : start + len(other.offline)] = other.offline.to_bytes()
    assert not verify_datagram2(parse_datagram2(bytes(forged)), TARGET, NOW)


def test_datagram2_parse_errors() -> None:
    wire = encode_datagram2(keys_for(), b"", TARGET, {"k": "v"})
    dest_len = len(keys_for().destination)
    for cut in (dest_len, dest_len + 1, dest_len + 3, len(wire) - 1):
        with pytest.raises(DataFormatError):
            parse_datagram2(wire[:cut])
    wrong_version = bytearray(wire)
    wrong_version[dest_len + 1] = 0x13
    with pytest.raises(DataFormatError, match="version 3"):
        parse_datagram2(bytes(wrong_version))


def test_datagram3_layout_and_errors() -> None:
    sender = hashlib.sha256(b"sender").digest()
    wire = encode_datagram3(sender, b"three")
    assert wire == sender + b"\x00\x03three"
    assert parse_datagram3(wire) == (sender, {}, b"three")
    with_options = encode_datagram3(sender, b"", {"x": "1"})
    assert parse_datagram3(with_options) == (sender, {"x": "1"}, b"")
    for bad in (sender[:31], sender + b"\x00", sender + b"\x00\x02", sender + b"\x00\x13\x00"):
        with pytest.raises(DataFormatError):
            parse_datagram3(bad)
    with pytest.raises(ValueError, match="32 bytes"):
        encode_datagram3(b"short", b"")


def test_max_payload_fits_the_limit() -> None:
    keys = keys_for()
    for kind in DatagramKind:
        limit = max_payload(kind, keys)
        assert limit + overhead(kind, keys) == MAX_DATAGRAM_SIZE
    assert max_payload(DatagramKind.RAW, keys) == MAX_DATAGRAM_SIZE
    assert max_payload(DatagramKind.REPLIABLE, keys) == MAX_DATAGRAM_SIZE - 391 - 64
