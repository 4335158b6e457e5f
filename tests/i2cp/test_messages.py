"""Golden bytes for every I2CP message, both directions, and decoder robustness."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from i2p_streaming.data import (
    Destination,
    EncryptionKey,
    Lease,
    Lease2,
    LeaseSet2,
    PrivateKeys,
    SigType,
)
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp import messages as m

DEST_BYTES = bytes(256) + b"\x07" * 96 + bytes(range(32)) + bytes.fromhex("05000400070000")
DEST = Destination.from_bytes(DEST_BYTES)[0]
H = bytes(range(100, 132))


def _mapping(pairs: list[tuple[str, str]]) -> bytes:
    body = b"".join(
        bytes([len(k)]) + k.encode() + b"=" + bytes([len(v)]) + v.encode() + b";" for k, v in pairs
    )
    return struct.pack(">H", len(body)) + body


def _round_trip(msg: m.Message, body: bytes) -> None:
    assert msg.encode() == body
    assert m.decode_message(msg.TYPE, body) == msg
    assert m.encode_message(msg) == struct.pack(">IB", len(body), msg.TYPE) + body


SIMPLE: list[tuple[m.Message, bytes]] = [
    (m.DestroySession(0x1234), b"\x12\x34"),
    (m.GetBandwidthLimits(), b""),
    (m.SessionStatus(0x0102, 1), b"\x01\x02\x01"),
    (
        m.MessageStatus(1, 0x0A0B0C0D, 4, 77, 0x01020304),
        b"\x00\x01\x0a\x0b\x0c\x0d\x04\x00\x00\x00\x4d\x01\x02\x03\x04",
    ),
    (m.BandwidthLimits(tuple(range(16))), b"".join(struct.pack(">I", i) for i in range(16))),
    (m.Disconnect("bye"), b"\x03bye"),
    (m.MessagePayload(5, 6, b"xyz"), b"\x00\x05\x00\x00\x00\x06\x00\x00\x00\x03xyz"),
    (m.GetDate("0.9.66"), b"\x060.9.66"),
    (
        m.GetDate("0.9.66", {"i2cp.username": "u", "i2cp.password": "p"}),
        b"\x060.9.66" + _mapping([("i2cp.password", "p"), ("i2cp.username", "u")]),
    ),
    (m.SetDate(0x0102030405060708), bytes(range(1, 9))),
    (m.SetDate(1000, "0.9.67"), struct.pack(">Q", 1000) + b"\x060.9.67"),
    (m.DestLookup(H), H),
    (m.DestReply(None, H), H),
    (m.DestReply(DEST), DEST_BYTES),
    (
        m.RequestVariableLeaseSet(9, (Lease(H, 7, 123456789),)),
        b"\x00\x09\x01" + H + b"\x00\x00\x00\x07" + struct.pack(">Q", 123456789),
    ),
    (
        m.HostLookup(0xFFFF, 42, 10000, 0, H),
        b"\xff\xff\x00\x00\x00\x2a\x00\x00\x27\x10\x00" + H,
    ),
    (
        m.HostLookup(3, 43, 5000, 1, "example.i2p"),
        b"\x00\x03\x00\x00\x00\x2b\x00\x00\x13\x88\x01\x0bexample.i2p",
    ),
    (m.HostLookup(3, 44, 0, 4, DEST), b"\x00\x03\x00\x00\x00\x2c\x00\x00\x00\x00\x04" + DEST_BYTES),
    (m.HostReply(3, 42, 1), b"\x00\x03\x00\x00\x00\x2a\x01"),
    (m.HostReply(3, 42, 0, DEST), b"\x00\x03\x00\x00\x00\x2a\x00" + DEST_BYTES),
    (
        m.HostReply(3, 42, 0, DEST, {"a": "b"}),
        b"\x00\x03\x00\x00\x00\x2a\x00" + DEST_BYTES + _mapping([("a", "b")]),
    ),
    (
        m.SendMessage(7, DEST, b"gz", 9),
        b"\x00\x07" + DEST_BYTES + b"\x00\x00\x00\x02gz\x00\x00\x00\x09",
    ),
    (
        m.SendMessageExpires(7, DEST, b"gz", 9, 0x0100, 0x010203040506),
        b"\x00\x07"
        + DEST_BYTES
        + b"\x00\x00\x00\x02gz\x00\x00\x00\x09\x01\x00\x01\x02\x03\x04\x05\x06",
    ),
    (
        m.CreateLeaseSet(1, b"\x01" * 20, b"\x02" * 256, b"ls1-bytes"),
        b"\x00\x01" + b"\x01" * 20 + b"\x02" * 256 + b"ls1-bytes",
    ),
]


@pytest.mark.parametrize(("msg", "body"), SIMPLE, ids=[type(x[0]).__name__ for x in SIMPLE])
def test_golden(msg: m.Message, body: bytes) -> None:
    _round_trip(msg, body)


def test_empty_get_date_and_empty_dest_reply() -> None:
    assert m.GetDate.decode(b"") == m.GetDate("")
    assert m.DestReply.decode(b"") == m.DestReply(None, None)
    assert m.DestReply().encode() == b""


def test_session_config_create_reconfigure() -> None:
    keys = PrivateKeys.generate()
    cfg = m.SessionConfig.create(keys, {"b": "2", "a": "1"}, 1_700_000_000_000)
    dest = keys.destination.to_bytes()
    signed = dest + _mapping([("a", "1"), ("b", "2")]) + struct.pack(">Q", 1_700_000_000_000)
    assert cfg.signed_bytes() == signed
    assert keys.destination.verify(signed, cfg.signature)
    assert cfg.verify()
    _round_trip(m.CreateSession(cfg), signed + cfg.signature)
    _round_trip(m.ReconfigureSession(0x0203, cfg), b"\x02\x03" + signed + cfg.signature)
    bad = m.SessionConfig(cfg.destination, {"a": "1", "b": "3"}, cfg.date_ms, cfg.signature)
    assert not bad.verify()


def test_session_config_offline_signature() -> None:
    keys = PrivateKeys.generate()
    offline = keys.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, 2_000_000_000)
    assert offline.offline is not None
    from i2p_streaming.data import b64encode

    opts = {
        "i2cp.leaseSetOfflineExpiration": "2000000000",
        "i2cp.leaseSetTransientPublicKey": "7:" + b64encode(offline.offline.transient_public_key),
        "i2cp.leaseSetOfflineSignature": b64encode(offline.offline.signature),
    }
    cfg = m.SessionConfig.create(offline, opts, 1)
    assert cfg.verify()
    again = m.CreateSession.decode(cfg.to_bytes())
    assert again.config == cfg
    assert again.config.verify()
    for bad in ("x:AAAA", "7", "99:AAAA", "7:!!"):
        broken = m.SessionConfig(cfg.destination, {**opts, m.TRANSIENT_KEY_OPTION: bad}, 1, b"")
        assert not broken.verify()
    with pytest.raises(DataFormatError):
        m.CreateSession.decode(
            m.SessionConfig(cfg.destination, {m.TRANSIENT_KEY_OPTION: "x:y"}, 1, b"").to_bytes()
        )


def test_create_leaseset2_round_trip() -> None:
    keys = PrivateKeys.generate()
    ls = LeaseSet2.build(
        keys,
        encryption_keys=[EncryptionKey(4, bytes(range(32)))],
        leases=[Lease2(H, 5, 1_700_000_600)],
        published=1_700_000_000,
    )
    msg = m.CreateLeaseSet2(0x0506, ls, ((4, b"\x09" * 32),))
    body = b"\x05\x06\x03" + ls.to_bytes() + b"\x01\x00\x04\x00\x20" + b"\x09" * 32
    _round_trip(msg, body)
    with pytest.raises(DataFormatError, match="lease set type 9"):
        m.decode_message(41, b"\x05\x06\x09" + ls.to_bytes())


def test_encode_argument_checks() -> None:
    with pytest.raises(ValueError, match="32-byte"):
        m.DestLookup(b"x").encode()
    with pytest.raises(ValueError, match="private key"):
        m.CreateLeaseSet(1, b"", b"", b"").encode()


def test_unknown_type_is_reported_not_fatal() -> None:
    msg = m.decode_message(99, b"abc")
    assert msg == m.UnknownMessage(99, b"abc")
    assert m.encode_message(msg) == b"\x00\x00\x00\x03\x63abc"


def test_host_lookup_of_a_newer_type_keeps_its_key_bytes() -> None:
    msg = m.decode_message(38, b"\x00\x01" + b"\x00\x00\x00\x07" + b"\x00\x00\x27\x10\x09xyz")
    assert isinstance(msg, m.HostLookup)
    assert (msg.lookup_type, msg.key) == (9, b"xyz")


@pytest.mark.parametrize(
    ("msg_type", "body", "match"),
    [
        (20, b"\x00\x01\x01\x00", "trailing"),
        (20, b"\x00", "truncated"),
        (22, b"\x00" * 14, "expected 15"),
        (23, b"\x00" * 63, "expected 64"),
        (34, b"\x00" * 31, "expected 32"),
        (31, b"\x00\x01\x00\x00\x00\x01\x00\x00\x00\x09ab", "truncated payload"),
        (8, b"x", "trailing"),
        (3, b"\x00\x01\x02", "trailing"),
        (33, b"\x00" * 8 + b"\x05ab", "String"),
    ],
)
def test_malformed(msg_type: int, body: bytes, match: str) -> None:
    with pytest.raises(DataFormatError, match=match):
        m.decode_message(msg_type, body)


@settings(max_examples=300, deadline=None)
@given(msg_type=st.sampled_from(sorted(m._MESSAGE_TYPES)), body=st.binary(max_size=600))
def test_garbage_bodies_only_raise_data_format_error(msg_type: int, body: bytes) -> None:
    with contextlib.suppress(DataFormatError):
        m.decode_message(msg_type, body)
