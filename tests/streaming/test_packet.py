"""Packet codec: golden captures, round trips, garbage, signing and verification."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from i2p_streaming.data import Destination, PrivateKeys, SigType
from i2p_streaming.errors import DataFormatError
from i2p_streaming.streaming import packet as packet_mod
from i2p_streaming.streaming.packet import (
    MAX_PAYLOAD_SIZE,
    Flags,
    Packet,
    encode_plain,
    peer_key_of,
    verify_packet,
)

VECTORS = Path("/work/shared/vectors")
CAPTURES = ["syn-i2pd-2.56.0.json", "syn-java-2.7.0.json"]


def load(name: str) -> tuple[bytes, Destination, Destination]:
    doc = json.loads((VECTORS / name).read_text())
    raw = base64.b64decode(doc["packets"][0]["packet"])
    sender = Destination.from_base64(doc["sender_destination"])
    receiver = Destination.from_base64(doc["receiver_destination"])
    return raw, sender, receiver


@pytest.fixture(scope="module")
def keys() -> PrivateKeys:
    return PrivateKeys.generate()


@pytest.fixture(scope="module")
def other() -> PrivateKeys:
    return PrivateKeys.generate()


@pytest.mark.parametrize("name", CAPTURES)
def test_captured_syn_parses_reencodes_and_verifies(name: str) -> None:
    raw, sender, receiver = load(name)
    p = Packet.decode(raw)
    java = "java" in name
    assert p.send_stream_id == 0
    assert p.receive_stream_id != 0
    assert p.sequence_num == 0
    assert p.ack_through == 0
    assert p.flags == (0x4E9 if java else 0x4A9)
    assert p.delay == (0 if java else None)
    assert p.max_packet_size == (1730 if java else 1812)
    assert p.from_destination == sender
    assert p.offline_signature is None
    assert p.signature is not None and len(p.signature) == 64
    assert p.payload == b""
    assert p.is_syn
    assert p.encode() == raw
    assert verify_packet(raw, p)
    assert verify_packet(raw, p, expected=sender)
    assert not verify_packet(raw, p, expected=receiver)
    assert struct.pack(">8I", *p.nacks) == receiver.hash
    assert struct.pack(">8I", *p.nacks) != sender.hash


@pytest.mark.parametrize("name", CAPTURES)
def test_captured_syn_tampered_fails_verification(name: str) -> None:
    raw, _, _ = load(name)
    for index in (5, 17, 30, len(raw) - 70, len(raw) - 1):
        bad = bytearray(raw)
        bad[index] ^= 0x01
        try:
            p = Packet.decode(bytes(bad))
        except DataFormatError:
            continue
        assert not verify_packet(bytes(bad), p)


def test_flag_values() -> None:
    values = {
        "SYNCHRONIZE": 1,
        "CLOSE": 2,
        "RESET": 4,
        "SIGNATURE_INCLUDED": 8,
        "SIGNATURE_REQUESTED": 0x10,
        "FROM_INCLUDED": 0x20,
        "DELAY_REQUESTED": 0x40,
        "MAX_PACKET_SIZE_INCLUDED": 0x80,
        "PROFILE_INTERACTIVE": 0x100,
        "ECHO": 0x200,
        "NO_ACK": 0x400,
        "OFFLINE_SIGNATURE": 0x800,
    }
    assert {f.name: f.value for f in Flags} == values
    # the plain-int copies the per-packet code uses carry the members' names and values
    for name in (n for n in values if hasattr(packet_mod, n)):
        copy = getattr(packet_mod, name)
        assert type(copy) is int and copy == values[name], name
    assert packet_mod.OPTION_BITS == 0x8E8


def test_minimal_plain_ack_layout() -> None:
    p = Packet(1, 2, 0, 7, (3, 5), 1, 0)
    raw = p.encode()
    assert raw == bytes.fromhex(
        "00000001 00000002 00000000 00000007 02 00000003 00000005 01 0000 0000"
    )
    assert Packet.decode(raw) == p
    assert encode_plain(1, 2, 0, 7, [3, 5], 0, None, b"") == raw


def test_encode_plain_with_delay_matches_general_encoder() -> None:
    p = Packet(9, 8, 4, 3, (), 1, 0, delay=61000, payload=b"abc")
    assert encode_plain(9, 8, 4, 3, (), 0, 61000, b"abc") == p.encode()
    assert Packet.decode(p.encode()).flags == Flags.DELAY_REQUESTED


def test_signed_round_trip_and_java_syn_template(keys: PrivateKeys, other: PrivateKeys) -> None:
    nacks = struct.unpack(">8I", other.destination.hash)
    p = Packet(0, 77, 0, 0, nacks, 1, int(Flags.SYNCHRONIZE | Flags.NO_ACK), delay=0)
    p.from_destination = keys.destination
    p.max_packet_size = 1730
    p.payload = b"hello"
    raw = p.encode_signed(keys)
    assert len(raw) == 22 + 32 + 2 + len(keys.destination) + 2 + 64 + 5
    q = Packet.decode(raw)
    assert q.flags == 0x4E9
    assert q == p
    assert verify_packet(raw, q, expected=keys.destination)
    assert not verify_packet(raw, q, expected=other.destination)
    # without FROM: verify with a stored key only
    c = Packet(5, 6, 3, 2, (), 1, int(Flags.CLOSE), delay=0)
    raw_c = c.encode_signed(keys)
    qc = Packet.decode(raw_c)
    assert qc.flags == 0x4A
    assert not verify_packet(raw_c, qc)
    assert verify_packet(raw_c, qc, key=peer_key_of(keys.destination, None))
    assert not verify_packet(raw_c, qc, key=peer_key_of(other.destination, None))
    assert not verify_packet(raw_c, Packet.decode(c.encode()[:-0] or raw_c), key=None)
    # wrong-length signature for the key type
    assert not verify_packet(raw_c, qc, key=(SigType.ECDSA_SHA384_P384, b"\x00" * 96))


def test_unsigned_packet_never_verifies(keys: PrivateKeys) -> None:
    p = Packet(1, 2, 3, 4)
    assert not verify_packet(p.encode(), p, key=peer_key_of(keys.destination, None))


def test_offline_signature_block(keys: PrivateKeys) -> None:
    offline_keys = keys.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, 2_000_000_000)
    p = Packet(0, 1, 0, 0, (), 1, int(Flags.SYNCHRONIZE), delay=0)
    p.from_destination = keys.destination
    p.offline_signature = offline_keys.offline
    p.max_packet_size = 1730
    raw = p.encode_signed(offline_keys)
    q = Packet.decode(raw)
    assert q.flags & Flags.OFFLINE_SIGNATURE
    assert q.offline_signature == offline_keys.offline
    assert verify_packet(raw, q, epoch_now=1_900_000_000)
    assert not verify_packet(raw, q, epoch_now=2_100_000_000)  # expired
    assert offline_keys.offline is not None
    assert peer_key_of(keys.destination, q.offline_signature)[1] == (
        offline_keys.offline.transient_public_key
    )
    # a packet signed by the destination key does not pass as transient-signed
    forged = Packet.decode(raw)
    forged.signature = None
    raw2 = forged.encode_signed(keys)
    assert not verify_packet(raw2, Packet.decode(raw2))


def test_offline_without_from_is_rejected(keys: PrivateKeys) -> None:
    offline_keys = keys.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, 2_000_000_000)
    assert offline_keys.offline is not None
    p = Packet(1, 2, 3, 4, offline_signature=offline_keys.offline)
    with pytest.raises(ValueError, match="FROM"):
        p.encode()
    block = offline_keys.offline.to_bytes()
    raw = struct.pack(">IIIIBBHH", 1, 2, 3, 4, 0, 1, 0x0800, len(block)) + block
    with pytest.raises(DataFormatError, match="OFFLINE_SIGNATURE without FROM"):
        Packet.decode(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "shorter than 22"),
        (bytes(21), "shorter than 22"),
        (bytes(16) + b"\x02" + bytes(5), "NACK count"),
        (bytes(17) + b"\x01\x00\x00\x00\x05", "option size"),
        (bytes(17) + b"\x01\x00\x40\x00\x01" + b"\x00", "DELAY overruns"),
        (bytes(17) + b"\x01\x00\x80\x00\x01" + b"\x00", "MTU overruns"),
        (bytes(17) + b"\x01\x00\x00\x00\x02" + b"\x00\x00", "unexplained option bytes"),
        (bytes(17) + b"\x01\x10\x00\x00\x00", "reserved flag"),
        (bytes(17) + b"\x01\x00\x08\x00\x00", "empty signature"),
        (bytes(22) + bytes(MAX_PAYLOAD_SIZE + 1), "payload larger"),
        (bytes(17) + b"\x01\x00\x20\x00\x05" + bytes(5), "Destination"),
    ],
)
def test_malformed_packets(raw: bytes, message: str) -> None:
    with pytest.raises(DataFormatError) as info:
        Packet.decode(raw)
    if message != "Destination":
        assert message in str(info.value)


def test_from_signature_length_must_match(keys: PrivateKeys) -> None:
    p = Packet(0, 1, 0, 0, (), 1, int(Flags.SYNCHRONIZE), signature=bytes(63))
    p.from_destination = keys.destination
    with pytest.raises(DataFormatError, match="expected 64"):
        Packet.decode(p.encode())


def test_encode_rejects_bad_fields() -> None:
    with pytest.raises(ValueError, match="NACKs"):
        Packet(1, 2, 3, 4, tuple(range(256))).encode()
    with pytest.raises(ValueError, match="out of range"):
        Packet(2**32, 2, 3, 4).encode()
    with pytest.raises(ValueError, match="exceeds"):
        Packet(1, 2, 3, 4, payload=bytes(MAX_PAYLOAD_SIZE + 1)).encode()
    with pytest.raises(ValueError, match="option area"):
        Packet(1, 2, 3, 4, signature=bytes(70000)).encode()


def test_signature_bits_follow_fields() -> None:
    p = Packet(1, 2, 3, 4, flags=int(Flags.SIGNATURE_INCLUDED | Flags.CLOSE))
    assert p.option_flags() == Flags.CLOSE
    assert Packet.decode(p.encode()).flags == Flags.CLOSE


u32 = st.integers(0, 2**32 - 1)


@st.composite
def packets(draw: st.DrawFn) -> Packet:
    flags = draw(st.integers(0, 0x0FFF)) & ~0x08E8  # option bits come from fields
    return Packet(
        draw(u32),
        draw(u32),
        draw(u32),
        draw(u32),
        tuple(draw(st.lists(u32, max_size=20))),
        draw(st.integers(0, 255)),
        flags,
        delay=draw(st.none() | st.integers(0, 65535)),
        max_packet_size=draw(st.none() | st.integers(0, 65535)),
        signature=draw(st.none() | st.binary(min_size=1, max_size=132)),
        payload=draw(st.binary(max_size=300)),
    )


@settings(max_examples=300, deadline=None)
@given(packets())
def test_round_trip(p: Packet) -> None:
    raw = p.encode()
    q = Packet.decode(raw)
    p.flags = p.option_flags()
    assert q == p
    assert q.encode() == raw


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_garbage_raises_only_data_format_error(data: bytes) -> None:
    try:
        p = Packet.decode(data)
    except DataFormatError:
        return
    assert p.encode() == data


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(CAPTURES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6),
    st.integers(0, 700),
)
def test_mutated_captures(name: str, flips: list[tuple[int, int]], cut: int) -> None:
    raw, _, _ = load(name)
    data = bytearray(raw)
    for pos, value in flips:
        data[pos % len(data)] = value
    data = data[: len(data) - cut % len(data)]
    try:
        p = Packet.decode(bytes(data))
    except DataFormatError:
        return
    assert p.encode() == bytes(data)
    if bytes(data) != raw:
        verify_packet(bytes(data), p)  # must not raise
