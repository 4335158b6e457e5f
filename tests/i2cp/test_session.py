"""The sans-I/O I2CP session, fed by a scripted router in random-size chunks."""

from __future__ import annotations

import random

import pytest

from i2p_streaming.data import (
    Lease,
    LeaseSet2,
    PrivateKeys,
    x25519_public_from_private,
)
from i2p_streaming.errors import InvalidStateError
from i2p_streaming.i2cp import events as ev
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.frames import Frame, FrameReader
from i2p_streaming.i2cp.payload import unwrap, wrap
from i2p_streaming.i2cp.session import I2CPSession, SessionState

KEYS = PrivateKeys.generate()
PEER = PrivateKeys.generate().destination
RT = 1_700_000_000_000  # router time (ms) at now=NOW
NOW = 50.0
SID = 0x0A0B


def parse(data: bytes) -> list[m.Message]:
    reader = FrameReader()
    reader.feed(data)
    out = []
    while isinstance(frame := reader.next_frame(), Frame):
        out.append(m.decode_message(frame.msg_type, frame.body))
    assert reader.buffered == 0
    return out


class Driver:
    def __init__(self, seed: int = 1, **kwargs: object) -> None:
        self.rng = random.Random(seed)
        self.s = I2CPSession(KEYS, kwargs.pop("options", None), **kwargs)  # type: ignore[arg-type]

    def feed(self, *msgs: m.Message | bytes, now: float = NOW) -> None:
        data = b"".join(x if isinstance(x, bytes) else m.encode_message(x) for x in msgs)
        pos = 0
        while pos < len(data):
            n = self.rng.randint(1, 40)
            self.s.receive_data(data[pos : pos + n], now)
            pos += n

    def out(self) -> list[m.Message]:
        return parse(self.s.data_to_send())

    def events(self) -> list[ev.Event]:
        got = []
        while (e := self.s.next_event()) is not None:
            got.append(e)
        return got

    def establish(self) -> None:
        self.s.start()
        raw = self.s.data_to_send()
        assert raw[:1] == b"\x2a"
        assert parse(raw[1:]) == [m.GetDate("0.9.66")]
        self.feed(m.SetDate(RT, "0.9.66"), m.SessionStatus(SID, 1))
        create = self.out()
        assert len(create) == 1
        assert isinstance(create[0], m.CreateSession)
        self.feed(m.RequestVariableLeaseSet(SID, (Lease(b"\x01" * 32, 5, RT + 600_000),)))
        self.cls2 = self.out()
        self.initial_events = self.events()


def test_handshake_options_and_first_lease_set() -> None:
    d = Driver(options={"inbound.length": "0", "i2cp.tcp.host": "x", "i2p.streaming.foo": "1"})
    d.establish()
    created = [e for e in d.initial_events if not isinstance(e, ev.RouterDate)]
    assert created == [ev.SessionCreated(SID), ev.LeaseSetCreated(RT // 1000, 1, True)]
    assert d.s.state is SessionState.CREATED
    assert d.s.session_id == SID
    assert d.s.router_version == "0.9.66"
    assert d.s.offset_ms == RT - NOW * 1000
    [cls2] = d.cls2
    assert isinstance(cls2, m.CreateLeaseSet2)
    assert cls2.session_id == SID
    ls = cls2.lease_set
    assert LeaseSet2.from_bytes(ls.to_bytes())[0].verify()
    assert ls.destination == KEYS.destination
    assert ls.published == RT // 1000
    assert ls.leases[0].end == (RT + 600_000) // 1000
    assert ls.leases[0].tunnel_id == 5
    [(enc_type, priv)] = cls2.private_keys
    assert enc_type == 4
    assert ls.keys[0].enc_type == 4
    assert x25519_public_from_private(priv) == ls.keys[0].public_key
    assert d.s.lease_sets_sent == 1


def test_create_session_config_contents() -> None:
    d = Driver(options={"inbound.length": "0", "i2cp.SSL": "true"}, username="u", password="p")
    d.s.start()
    assert parse(d.s.data_to_send()[1:]) == [
        m.GetDate("0.9.66", {"i2cp.username": "u", "i2cp.password": "p"})
    ]
    d.feed(m.SetDate(RT, None))
    [create] = d.out()
    assert isinstance(create, m.CreateSession)
    cfg = create.config
    assert cfg.verify()
    assert cfg.date_ms == RT
    assert cfg.destination == KEYS.destination
    assert cfg.options == {
        "i2cp.fastReceive": "true",
        "i2cp.messageReliability": "none",
        "i2cp.leaseSetEncType": "4",
        "i2cp.leaseSetType": "3",
        "inbound.length": "0",
    }
    assert d.s.router_version is None


def test_bad_options_rejected() -> None:
    with pytest.raises(ValueError, match="leaseSetEncType"):
        I2CPSession(KEYS, {"i2cp.leaseSetEncType": "0"})
    with pytest.raises(ValueError, match="must be str"):
        I2CPSession(KEYS, {"inbound.length": 0})  # type: ignore[dict-item]
    d = Driver(options={"x": "y" * 300})
    d.s.start()
    d.s.data_to_send()
    d.feed(m.SetDate(RT, "0.9.66"))
    assert isinstance(d.events()[-1], ev.SessionEnded)
    assert d.s.state is SessionState.CLOSED


def test_published_strictly_increases_and_unsolicited_set_date() -> None:
    d = Driver(options={"i2cp.dontPublishLeaseSet": "true"})
    d.establish()
    first = d.cls2[0]
    assert isinstance(first, m.CreateLeaseSet2)
    assert first.lease_set.flags & 2
    leases = (Lease(b"\x02" * 32, 6, RT + 500_000), Lease(b"\x03" * 32, 7, RT + 550_000))
    d.feed(m.RequestVariableLeaseSet(SID, leases))
    d.feed(m.RequestVariableLeaseSet(SID, leases))
    second, third = d.out()
    assert isinstance(second, m.CreateLeaseSet2)
    assert isinstance(third, m.CreateLeaseSet2)
    assert second.lease_set.published == RT // 1000 + 1
    assert third.lease_set.published == RT // 1000 + 2
    assert second.lease_set.expires == (RT + 550_000) // 1000
    assert second.private_keys == first.private_keys
    assert [e for e in d.events() if isinstance(e, ev.LeaseSetCreated)][-1].first is False
    # The router's clock jumps ahead by 100 s: later lease sets follow router time.
    d.feed(m.SetDate(RT + 100_000, "0.9.67"), now=NOW)
    assert d.events() == [ev.RouterDate(RT + 100_000, "0.9.67", RT + 100_000 - NOW * 1000)]
    assert d.s.router_version == "0.9.67"
    d.feed(m.RequestVariableLeaseSet(SID, leases), now=NOW + 1)
    [fourth] = d.out()
    assert isinstance(fourth, m.CreateLeaseSet2)
    assert fourth.lease_set.published == (RT + 101_000) // 1000


def test_lease_set_request_for_other_session_or_bad_leases() -> None:
    d = Driver()
    d.establish()
    d.feed(m.RequestVariableLeaseSet(SID + 1, ()))
    assert d.out() == []
    d.feed(m.RequestVariableLeaseSet(SID, (Lease(b"\x01" * 32, 5, RT + 90_000_000),)))
    assert d.out() == []
    assert [type(e) for e in d.events()] == [ev.ProtocolViolation, ev.ProtocolViolation]


def test_send_statuses_matched_by_nonce() -> None:
    d = Driver()
    d.establish()
    assert d.s.send_message(PEER, b"fire", protocol=18, src_port=1, dst_port=2) == 0
    n1 = d.s.send_message(PEER, b"one", protocol=18, want_status=True, now=NOW)
    n2 = d.s.send_message(PEER, b"two", protocol=6, want_status=True, now=NOW, compress=True)
    assert n1 != n2
    assert 0 not in (n1, n2)
    sent = d.out()
    assert [type(x) for x in sent] == [m.SendMessage] * 3
    assert isinstance(sent[0], m.SendMessage)
    assert sent[0].nonce == 0
    assert sent[0].destination == PEER
    assert sent[0].session_id == SID
    assert unwrap(sent[0].payload).data == b"fire"
    assert unwrap(sent[0].payload).src_port == 1
    # i2pd gives every status a new message id: only the nonce matters.
    d.feed(
        m.MessageStatus(SID, 900, 1, 0, n2),
        m.MessageStatus(SID, 901, 4, 0, n2),
        m.MessageStatus(SID, 902, 21, 0, n1),
        m.MessageStatus(SID, 903, 4, 0, 0),
        m.MessageStatus(SID, 904, 4, 0, 12345),
    )
    assert d.events() == [
        ev.SendStatus(n2, ev.SendOutcome.ACCEPTED, 1, "accepted", 900),
        ev.SendStatus(n2, ev.SendOutcome.DELIVERED, 4, "guaranteed success", 901),
        ev.SendStatus(n1, ev.SendOutcome.FAILED, 21, "no lease set for the destination", 902),
    ]
    assert d.s.unmatched_statuses == 2
    assert d.s.get_timer() is None


def test_status_classification_table() -> None:
    assert {c for c in range(30) if ev.classify_status(c) is ev.SendOutcome.DELIVERED} == {2, 4, 6}
    assert ev.classify_status(1) is ev.SendOutcome.ACCEPTED
    assert ev.STATUS_TEXT[16].startswith("no local tunnels")
    d = Driver()
    d.establish()
    n = d.s.send_message(PEER, b"x", protocol=18, want_status=True, now=NOW)
    d.s.data_to_send()
    d.feed(m.MessageStatus(SID, 1, 99, 0, n))
    assert d.events() == [ev.SendStatus(n, ev.SendOutcome.FAILED, 99, "unknown status 99", 1)]


def test_send_status_timeout_and_expires_variant() -> None:
    d = Driver()
    d.establish()
    n = d.s.send_message(PEER, b"x", protocol=18, want_status=True, now=NOW, timeout=5, flags=0x100)
    [msg] = d.out()
    assert isinstance(msg, m.SendMessageExpires)
    assert msg.flags == 0x100
    assert msg.nonce == n
    assert d.s.get_timer() == NOW + 5
    d.s.handle_timer(NOW + 4.9)
    assert d.events() == []
    d.s.handle_timer(NOW + 5)
    [status] = d.events()
    assert isinstance(status, ev.SendStatus)
    assert status.outcome is ev.SendOutcome.FAILED
    assert status.status is None
    assert status.final
    assert d.s.get_timer() is None
    d.feed(m.MessageStatus(SID, 1, 4, 0, n))  # late: ignored
    assert d.events() == []
    assert d.s.unmatched_statuses == 1


def test_send_errors() -> None:
    d = Driver(max_pending=1)
    with pytest.raises(InvalidStateError, match="idle"):
        d.s.send_message(PEER, b"", protocol=6)
    d.establish()
    with pytest.raises(ValueError, match="too large"):
        d.s.send_message(PEER, bytes(65200), protocol=6, want_status=True, now=NOW)
    assert d.s.get_timer() is None
    d.s.send_message(PEER, b"", protocol=6, want_status=True, now=NOW)
    with pytest.raises(InvalidStateError, match="awaiting status"):
        d.s.send_message(PEER, b"", protocol=6, want_status=True, now=NOW)
    with pytest.raises(InvalidStateError, match="already started"):
        d.s.start()


def test_payload_delivery_and_drops() -> None:
    d = Driver()
    d.establish()
    good = wrap(b"data" * 100, protocol=6, src_port=7, dst_port=8, compress=True)
    bad = bytearray(wrap(b"data", protocol=6))
    bad[-5] ^= 1
    d.feed(
        m.MessagePayload(SID, 11, good),
        m.MessagePayload(SID, 12, bytes(bad)),
        m.encode_message(m.MessagePayload(SID, 13, b""))[: -0 or None],
        b"\x00\x00\x00\x03\x1f\x00\x01\x02",
        b"\x00\x00\x00\x0c\x1f" + b"\x00\x01\x00\x00\x00\x0e\x00\x00\x00\x09ab",
    )
    events = d.events()
    assert events[0] == ev.PayloadReceived(6, 7, 8, b"data" * 100, 11)
    assert isinstance(events[1], ev.PayloadDropped)
    assert events[1].message_id == 12
    assert "CRC32" in events[1].reason
    assert isinstance(events[2], ev.PayloadDropped)
    assert [type(e) for e in events[3:]] == [ev.ProtocolViolation, ev.ProtocolViolation]
    assert d.s.dropped_payloads == 2


def test_payload_size_cap() -> None:
    d = Driver(max_payload_size=100)
    d.establish()
    d.feed(m.MessagePayload(SID, 1, wrap(bytes(101), protocol=6)))
    [drop] = d.events()
    assert isinstance(drop, ev.PayloadDropped)
    assert "cap" in drop.reason


def test_lookups_by_hash_and_name() -> None:
    d = Driver()
    d.establish()
    r1 = d.s.lookup(PEER.b32.upper(), now=NOW, timeout=10)
    r2 = d.s.lookup("example.i2p", now=NOW, timeout=10)
    r3 = d.s.lookup(PEER.b32, now=NOW)
    r4 = d.s.lookup("other.i2p", now=NOW)
    a, b, _c, _e = d.out()
    assert a == m.HostLookup(SID, r1, 10000, 0, PEER.hash)
    assert b == m.HostLookup(SID, r2, 10000, 1, "example.i2p")
    other = PrivateKeys.generate().destination
    d.feed(
        m.HostReply(SID, r1, 0, PEER),
        m.HostReply(SID, r2, 1),
        m.HostReply(SID, r3, 0, other),
        m.HostReply(SID, r4, 7),
        m.HostReply(SID, 999, 0, PEER),
    )
    got = d.events()
    assert got[0] == ev.LookupResult(r1, PEER.b32.upper(), PEER)
    assert got[1] == ev.LookupResult(r2, "example.i2p", None, "not found")
    third = got[2]
    assert isinstance(third, ev.LookupResult)
    assert third.destination is None
    assert "different hash" in third.reason
    assert got[3] == ev.LookupResult(r4, "other.i2p", None, "lookup type unsupported")
    assert isinstance(got[4], ev.ProtocolViolation)
    with pytest.raises(ValueError, match="1-255"):
        d.s.lookup("", now=NOW)


def test_lookup_timeout() -> None:
    d = Driver(max_pending=1)
    d.establish()
    rid = d.s.lookup("slow.i2p", now=NOW, timeout=3)
    with pytest.raises(InvalidStateError, match="too many lookups"):
        d.s.lookup("x.i2p", now=NOW)
    assert d.s.get_timer() == NOW + 3
    d.s.handle_timer(NOW + 3)
    assert d.events() == [
        ev.LookupResult(rid, "slow.i2p", None, "no reply from the router in time")
    ]
    d.feed(m.HostReply(SID, rid, 0, PEER))
    assert isinstance(d.events()[0], ev.ProtocolViolation)


def test_dest_lookup_fallback_on_old_router() -> None:
    d = Driver()
    d.s.start()
    d.s.data_to_send()
    d.feed(m.SetDate(RT, "0.9.10"), m.SessionStatus(SID, 1))
    d.out()
    d.events()
    r1 = d.s.lookup(PEER.b32, now=NOW)
    r2 = d.s.lookup(PEER.b32, now=NOW)
    r3 = d.s.lookup("name.i2p", now=NOW)
    assert d.out() == [m.DestLookup(PEER.hash), m.DestLookup(PEER.hash)]
    assert d.events() == [
        ev.LookupResult(r3, "name.i2p", None, "router too old for host name lookups")
    ]
    d.feed(m.DestReply(PEER))
    assert d.events() == [ev.LookupResult(r1, PEER.b32, PEER), ev.LookupResult(r2, PEER.b32, PEER)]
    missing = PrivateKeys.generate().destination
    r4 = d.s.lookup(missing.b32, now=NOW)
    d.feed(m.DestReply(None, missing.hash), m.DestReply(None, b"\x00" * 32))
    events = d.events()
    assert events[0] == ev.LookupResult(r4, missing.b32, None, "not found")
    assert isinstance(events[1], ev.ProtocolViolation)


def test_reconfigure_updated_and_invalid() -> None:
    d = Driver()
    d.establish()
    d.s.reconfigure({"inbound.quantity": "2"}, now=NOW)
    with pytest.raises(InvalidStateError, match="already pending"):
        d.s.reconfigure({}, now=NOW)
    [msg] = d.out()
    assert isinstance(msg, m.ReconfigureSession)
    assert msg.session_id == SID
    assert msg.config.verify()
    assert msg.config.options["inbound.quantity"] == "2"
    d.feed(m.SessionStatus(SID, 2))
    assert d.events() == [ev.Reconfigured(True)]
    assert d.s.options["inbound.quantity"] == "2"
    d.s.reconfigure({"inbound.quantity": "9"}, now=NOW)
    d.feed(m.SessionStatus(SID, 3))
    assert d.events() == [ev.Reconfigured(False, "router rejected the options")]
    assert d.s.state is SessionState.CREATED
    assert d.s.options["inbound.quantity"] == "2"
    d.feed(m.SessionStatus(SID, 2))  # unsolicited Updated: ignored
    assert d.events() == []
    with pytest.raises(ValueError, match="bad I2CP options"):
        d.s.reconfigure({"k": "v" * 256}, now=NOW)


def test_bandwidth_limits_unknown_and_unexpected_messages() -> None:
    d = Driver()
    d.establish()
    d.s.request_bandwidth_limits()
    assert d.out() == [m.GetBandwidthLimits()]
    d.feed(
        m.BandwidthLimits(tuple(range(16))),
        m.UnknownMessage(77, b"zz"),
        m.GetDate("x"),
        b"\x00\x00\x00\x01\x14\x00",
        m.SessionStatus(SID + 1, 0),
        m.SessionStatus(SID, 1),
    )
    got = d.events()
    assert got[0] == ev.BandwidthLimitsReceived(tuple(range(16)))
    assert got[1] == ev.UnknownMessageReceived(77, 2)
    assert [type(e) for e in got[2:]] == [ev.ProtocolViolation] * 4
    assert d.s.state is SessionState.CREATED


@pytest.mark.parametrize(
    ("status", "reason"),
    [(0, ev.EndReason.DESTROYED), (3, ev.EndReason.INVALID), (4, ev.EndReason.REFUSED)],
)
def test_router_ends_established_session(status: int, reason: ev.EndReason) -> None:
    d = Driver()
    d.establish()
    d.s.lookup("x.i2p", now=NOW)
    d.s.send_message(PEER, b"", protocol=6, want_status=True, now=NOW)
    d.feed(m.SessionStatus(SID, status), m.SessionStatus(SID, 1))
    [end] = d.events()
    assert isinstance(end, ev.SessionEnded)
    assert end.reason is reason
    assert d.s.end is end
    assert d.s.state is SessionState.CLOSED
    assert d.s.get_timer() is None
    d.s.receive_eof()
    assert d.events() == []


@pytest.mark.parametrize("status", [3, 4, 0])
def test_create_session_refused(status: int) -> None:
    d = Driver()
    d.s.start()
    d.feed(m.SetDate(RT, "0.9.66"), m.SessionStatus(0xFFFF, status))
    end = d.events()[-1]
    assert isinstance(end, ev.SessionEnded)
    assert (
        end.reason
        is {3: ev.EndReason.INVALID, 4: ev.EndReason.REFUSED, 0: ev.EndReason.DESTROYED}[status]
    )


def test_disconnect_eof_and_protocol_errors() -> None:
    d = Driver()
    d.establish()
    d.feed(m.Disconnect("Authorization required"))
    [end] = d.events()
    assert end == ev.SessionEnded(
        ev.EndReason.DISCONNECT, "the router disconnected: Authorization required"
    )
    d2 = Driver()
    d2.establish()
    d2.s.receive_eof()
    assert d2.events() == [ev.SessionEnded(ev.EndReason.EOF, "the router closed the connection")]
    d3 = Driver()
    d3.establish()
    d3.feed(m.encode_message(m.SessionStatus(SID, 1))[:-1])
    d3.s.receive_eof()
    [end3] = d3.events()
    assert isinstance(end3, ev.SessionEnded)
    assert end3.reason is ev.EndReason.PROTOCOL_ERROR
    d4 = Driver(max_frame_body=100)
    d4.establish()
    d4.feed(b"\x00\x00\x01\x00\x1f" + bytes(256), m.SessionStatus(SID, 0))
    [end4] = d4.events()
    assert isinstance(end4, ev.SessionEnded)
    assert end4.reason is ev.EndReason.PROTOCOL_ERROR
    assert "256-byte body" in end4.message


def test_destroy_paths() -> None:
    d = Driver()
    d.establish()
    d.s.destroy()
    assert d.out() == [m.DestroySession(SID)]
    assert d.s.state is SessionState.CLOSING
    d.s.destroy()
    assert d.out() == []
    d.feed(m.SessionStatus(SID, 0))
    assert d.events() == [ev.SessionEnded(ev.EndReason.CLOSED, "session destroyed by us")]
    d2 = Driver()
    d2.establish()
    d2.s.destroy()
    d2.s.receive_eof()
    assert d2.events() == [ev.SessionEnded(ev.EndReason.CLOSED, "session destroyed by us")]
    d3 = Driver()
    d3.s.destroy()
    [end] = d3.events()
    assert isinstance(end, ev.SessionEnded)
    assert end.reason is ev.EndReason.CLOSED
    d3.s.receive_data(m.encode_message(m.SetDate(RT)), NOW)
    assert d3.events() == []
    assert d3.s.data_to_send() == b""


def test_the_core_frames_send_message_like_the_message_class() -> None:
    """One encoder: the bytes the core queues decode to, and re-encode as, the message class."""
    d = Driver()
    d.establish()
    for flags, expiration_ms in ((0, 0), (0x0100, 123_456)):
        d.s.send_message(
            PEER,
            b"payload",
            protocol=6,
            src_port=1,
            dst_port=2,
            flags=flags,
            expiration_ms=expiration_ms,
        )
        reader = FrameReader()
        reader.feed(d.s.data_to_send())
        frame = reader.next_frame()
        assert isinstance(frame, Frame)
        assert reader.next_frame() is None
        msg = m.decode_message(frame.msg_type, frame.body)
        assert isinstance(msg, m.SendMessage | m.SendMessageExpires)
        assert m.encode_message(msg)[5:] == frame.body
        assert unwrap(msg.payload).data == b"payload"
        if flags:
            assert isinstance(msg, m.SendMessageExpires)
            assert (msg.flags, msg.expiration_ms) == (0x0100, 123_456)
