"""Protocol behaviour of two StreamManagers over the fake link, in simulated time."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from i2p_streaming.data import PrivateKeys, SigType
from i2p_streaming.streaming import (
    ConnectionFailed,
    ConnectionReset,
    Event,
    Flags,
    IncomingConnection,
    OutgoingPacket,
    Packet,
    PeerClosed,
    PingAnswered,
    PingTimeout,
    State,
    StreamManager,
    StreamOptions,
)
from i2p_streaming.streaming.packet import verify_packet
from i2p_streaming.streaming.receiving import ACK_EVERY_PACKETS, ACK_IDLE_GAPS, ACK_IDLE_MIN
from tests.support.asserts import assert_events, assert_sent, decode_sent
from tests.support.link import FakeLink, Impairment
from tests.support.pair import make_pair

SYN_FLAGS = 0x4E9  # SYN|SIG|FROM|DELAY|MTU|NO_ACK, as Java
SYN_REPLY_FLAGS = 0x0E9  # SYN|SIG|FROM|DELAY|MTU


def sent_packets(link: FakeLink, sender: StreamManager) -> list[Packet]:
    return decode_sent(link.sent_by(sender))


def test_handshake_exact_packets(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a, b = pair.link, pair.a, pair.b
    link.record = True
    sid = a.manager.connect(keys_b.destination, port=80, local_port=1234, now=0.0)
    assert a.manager.state(sid) is State.CONNECTING
    first = a.manager.payloads_to_send(0.0)
    assert len(first) == 1
    assert first[0].want_status and first[0].is_syn
    assert (first[0].src_port, first[0].dst_port) == (1234, 80)
    link._transmit(a.manager, first[0])
    assert link.run(lambda: sid in a.established)
    assert link.now == pytest.approx(0.1)
    syn = Packet.decode(first[0].data)
    assert syn.flags == SYN_FLAGS
    assert (syn.send_stream_id, syn.receive_stream_id, syn.sequence_num) == (0, sid, 0)
    assert struct.pack(">8I", *syn.nacks) == keys_b.destination.hash
    assert syn.max_packet_size == 1812 and syn.delay == 0  # ECIES-only: Java's 1812
    assert syn.from_destination == keys_a.destination
    assert verify_packet(first[0].data, syn)
    [inc] = b.incoming
    assert inc == IncomingConnection(inc.stream_id, keys_a.destination, 80, 1234)
    [reply] = assert_sent(link.sent_by(b.manager), Flags.SYNCHRONIZE)
    assert reply.flags == SYN_REPLY_FLAGS
    assert (reply.send_stream_id, reply.receive_stream_id) == (sid, inc.stream_id)
    assert (reply.sequence_num, reply.ack_through, reply.nacks) == (0, 0, ())
    # the initiator acks the SYN reply at once (it asked for DELAY 0)
    link.run_for(1.0)
    acks = sent_packets(link, a.manager)[1:]
    assert len(acks) == 1
    assert acks[0].sequence_num == 0 and acks[0].ack_through == 0
    assert acks[0].flags == 0 and acks[0].send_stream_id == inc.stream_id
    assert a.manager.stats(sid).rtt == pytest.approx(0.1)
    # the SYN reply asked for DELAY 0: acked after min(120 ms, RTT/8) = 12.5 ms
    assert b.manager.stats(inc.stream_id).rtt == pytest.approx(0.1)
    assert a.manager.internal_errors == 0 and b.manager.internal_errors == 0


def test_zero_rtt_data_in_syn(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b)
    sid = pair.a.manager.connect(keys_b.destination, now=0.0, data=b"GET / HTTP/1.0\r\n\r\n")
    assert pair.link.run(lambda: bool(pair.b.received))
    assert pair.link.now == pytest.approx(0.05)
    [(bsid, data)] = pair.b.received.items()
    assert data == b"GET / HTTP/1.0\r\n\r\n"
    assert pair.b.incoming[0].stream_id == bsid
    assert sid not in pair.a.established  # the reply has not arrived yet


def test_syn_close_request_response_in_one_round_trip(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a, b = pair.link, pair.a, pair.b
    link.record = True

    def server(lk: FakeLink, m: StreamManager, ev: Event) -> None:
        pair.side(m).on_event(lk, ev)
        if m is b.manager and isinstance(ev, PeerClosed):
            sid = ev.stream_id
            b.write(sid, b"RESPONSE:" + bytes(b.received[sid]), lk.now, close=True)

    link.on_event = server
    sid = a.manager.connect(keys_b.destination, now=0.0, data=b"request", close=True)
    assert link.run(lambda: sid in a.peer_closed)
    assert link.now == pytest.approx(0.1)
    assert bytes(a.received[sid]) == b"RESPONSE:request"
    first = sent_packets(link, a.manager)[0]
    assert first.flags == SYN_FLAGS | Flags.CLOSE
    reply = sent_packets(link, b.manager)[0]
    assert reply.flags == SYN_REPLY_FLAGS | Flags.CLOSE
    assert reply.payload == b"RESPONSE:request"
    assert link.run(lambda: sid in a.closed and len(b.closed) == 1)
    assert link.now < 0.3
    link.run_for(299.0)
    assert len(a.manager.stream_ids) == 1  # TIME-WAIT: still acks retransmissions
    link.run_for(2.0)
    assert a.manager.stream_ids == [] and b.manager.stream_ids == []


@pytest.mark.parametrize("first_closer", ["initiator", "responder"])
def test_half_close_keeps_receiving(
    keys_a: PrivateKeys, keys_b: PrivateKeys, first_closer: str
) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a, b = pair.link, pair.a, pair.b
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established and bool(b.incoming))
    bsid = b.incoming[0].stream_id
    closer, other, csid, osid = (
        (a, b, sid, bsid)
        if first_closer == "initiator"
        else (
            b,
            a,
            bsid,
            sid,
        )
    )
    closer.write(csid, b"last words", link.now, close=True)
    assert link.run(lambda: osid in other.peer_closed)
    assert bytes(other.received[osid]) == b"last words"
    with pytest.raises(BrokenPipeError):
        closer.manager.send(csid, b"x", link.now)
    # the other side still writes; the closer still receives
    payload = bytes(range(256)) * 40
    other.write(osid, payload, link.now)
    assert link.run(lambda: bytes(closer.received[csid]) == payload)
    assert csid not in closer.closed
    other.manager.close(osid, link.now)
    assert link.run(lambda: csid in closer.closed and osid in other.closed)
    assert csid in closer.peer_closed
    assert not a.reset and not b.reset


@pytest.mark.parametrize("resetter", ["a", "b"])
def test_reset_by_initiator_and_by_responder(
    keys_a: PrivateKeys, keys_b: PrivateKeys, resetter: str
) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a, b = pair.link, pair.a, pair.b
    link.record = True
    sid = a.manager.connect(keys_b.destination, now=0.0, data=b"hi")
    assert link.run(lambda: sid in a.established)
    link.run_for(1.0)
    bsid = b.incoming[0].stream_id
    if resetter == "a":
        a.manager.reset(sid, link.now)
        victim, vsid, by = b, bsid, a.manager
    else:
        b.manager.reset(bsid, link.now)
        victim, vsid, by = a, sid, b.manager
    assert link.run(lambda: vsid in victim.reset)
    assert victim.reset[vsid].by_peer
    assert "reset by peer" in victim.reset[vsid].reason
    rst = sent_packets(link, by)[-1]
    assert rst.flags & Flags.RESET and rst.signature is not None
    assert rst.sequence_num > 0  # next sequence number (i2pd processes it in order)
    assert by.stream_ids == [] and victim.manager.stream_ids == []
    with pytest.raises(ValueError, match="unknown stream"):
        by.send(sid if resetter == "a" else bsid, b"x", link.now)


def test_forged_reset_is_ignored(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a, b = pair.link, pair.a, pair.b
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    bsid = b.incoming[0].stream_id
    forger = PrivateKeys.generate()
    rst = Packet(sid, bsid, 1, 0, (), 1, int(Flags.RESET))
    a.manager.receive_payload(rst.encode_signed(forger), 0, 0, link.now)
    unsigned = Packet(sid, bsid, 1, 0, (), 1, int(Flags.RESET))
    a.manager.receive_payload(unsigned.encode(), 0, 0, link.now)
    link.run_for(1.0)
    assert not a.reset
    assert a.manager.state(sid) is State.OPEN
    assert a.manager.counters["bad_signature"] == 2


def test_refused_without_listener(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b, listen=None)
    link, a, b = pair.link, pair.a, pair.b
    link.record = True
    b.manager.listen(80)
    sid = a.manager.connect(keys_b.destination, port=81, now=0.0)
    assert link.run(lambda: sid in a.failed)
    assert link.now == pytest.approx(0.1)
    ev = a.failed[sid]
    assert ev.refused and "refused" in ev.reason
    [rst] = assert_sent(link.sent_by(b.manager), Flags.RESET)
    assert rst.flags == Flags.RESET | Flags.SIGNATURE_INCLUDED | Flags.FROM_INCLUDED
    assert rst.send_stream_id == sid
    assert b.manager.counters["refused_no_listener"] == 1
    assert a.manager.stream_ids == []
    # the listened port works, and unlisten refuses again
    sid2 = a.manager.connect(keys_b.destination, port=80, now=link.now)
    assert link.run(lambda: sid2 in a.established)
    b.manager.unlisten(80)
    sid3 = a.manager.connect(keys_b.destination, port=80, now=link.now)
    assert link.run(lambda: sid3 in a.failed)


def test_full_backlog_drops_the_syn_and_the_retry_gets_in(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    pair = make_pair(keys_a, keys_b, listen=None)
    pair.b.manager.listen(0, backlog=2)
    sids = [pair.a.manager.connect(keys_b.destination, now=0.0) for _ in range(3)]
    pair.link.run(lambda: len(pair.a.established) == 2)
    pair.link.run_for(1.0)
    assert not pair.a.failed and len(pair.a.established) == 2  # no RESET: dropped silently
    assert pair.b.manager.counters["backlog_full"] == 1
    # the application takes one stream: the third SYN's retransmission gets in
    pair.b.manager.accepted(pair.b.incoming[0].stream_id)
    assert pair.link.run(lambda: pair.a.established == set(sids), max_time=30.0)
    assert not pair.a.failed


def test_ping_pong_and_timeout(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a = pair.link, pair.a
    link.record = True
    pid = a.manager.ping(keys_b.destination, 0.0, payload=b"x" * 32)
    assert link.run(lambda: any(isinstance(e, PingAnswered) for e in link.events_of(a.manager)))
    assert_events(link.events_of(a.manager), PingAnswered)
    [ev] = link.events_of(a.manager)
    assert isinstance(ev, PingAnswered) and (ev.ping_id, ev.payload) == (pid, b"x" * 32)
    assert ev.rtt == pytest.approx(0.1)
    [ping] = assert_sent(link.sent_by(a.manager), Flags.ECHO)
    assert ping.flags == 0x628 and ping.send_stream_id == pid
    [pong] = assert_sent(link.sent_by(pair.b.manager), Flags.ECHO)
    assert pong.flags == 0x608 and pong.receive_stream_id == pid
    with pytest.raises(ValueError, match="32 bytes"):
        a.manager.ping(keys_b.destination, 0.0, payload=bytes(33))
    # nobody answers: timeout
    link.impairment.blackhole = True
    pid2 = a.manager.ping(keys_b.destination, link.now, timeout=5.0)
    start = link.now
    assert link.run(lambda: any(isinstance(e, PingTimeout) for e in link.events_of(a.manager)))
    assert link.events_of(a.manager)[-1] == PingTimeout(pid2)
    assert link.now == pytest.approx(start + 5.0)


def test_pings_not_answered_when_disabled(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b, options=StreamOptions(answer_pings=False))
    pair.a.manager.ping(keys_b.destination, 0.0, timeout=2.0)
    pair.link.run()
    assert_events(pair.link.events_of(pair.a.manager), PingTimeout)
    assert pair.b.manager.counters["ping_ignored"] == 1


def test_thousand_concurrent_streams(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b, echo=True, listen=None)
    pair.b.manager.listen(0, backlog=1000)
    link, a = pair.link, pair.a
    sids = [
        a.manager.connect(keys_b.destination, now=0.0, data=b"stream %d" % i, close=True)
        for i in range(1000)
    ]
    assert len(set(sids)) == 1000 and 0 not in sids
    assert link.run(lambda: len(a.closed) == 1000 and len(pair.b.closed) == 1000)
    for i, sid in enumerate(sids):
        assert bytes(a.received[sid]) == b"stream %d" % i
    assert link.now < 1.0
    assert not a.reset and not a.failed


def test_give_up_on_blackhole(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a = pair.link, pair.a
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    link.run_for(1.0)
    link.impairment.blackhole = True
    start = link.now
    a.write(sid, b"into the void", link.now)
    assert link.run(lambda: sid in a.reset, max_time=400.0)
    ev = a.reset[sid]
    assert not ev.by_peer
    assert "after 8 retransmissions" in ev.reason and keys_b.destination.b32 in ev.reason
    assert a.manager.stream_ids == []
    assert 10.0 < link.now - start < 200.0


def test_connect_timeout(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b, impairment=Impairment(blackhole=True))
    sid = pair.a.manager.connect(keys_b.destination, port=7, now=0.0)
    assert pair.link.run(lambda: sid in pair.a.failed)
    ev = pair.a.failed[sid]
    assert not ev.refused and "timed out after 60 s" in ev.reason
    assert pair.link.now == pytest.approx(60.0)
    final = pair.a.manager.stats(sid)  # the final counters outlive the stream
    assert final.state is State.DEAD
    # the SYN at 0, 2, 6, 10, ..., 58 s: 2 s initial RTO, doubling, capped at MAX_SYN_RTO
    # (4 s) so that 16 tries fill the connect timeout (Java: 0, 9, 27 s)
    assert final.packets_sent == 16
    assert final.packets_retransmitted == 15
    with pytest.raises(ValueError, match="unknown stream"):
        pair.a.manager.stats(sid + 1)


def test_early_packets_held_until_syn(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a, b = pair.link, pair.a, pair.b
    dropped: list[OutgoingPacket] = []

    def drop_first_syn(pkt: OutgoingPacket, sender: StreamManager) -> bool:
        if pkt.is_syn and sender is a.manager and not dropped:
            dropped.append(pkt)
            return True
        return False

    link.drop = drop_first_syn
    payload = bytes(range(256)) * 20  # SYN + 2 follow-ups
    sid = a.manager.connect(keys_b.destination, now=0.0, data=payload)
    link.run_for(1.0)
    assert b.manager.counters["held_early"] == 2
    assert not b.incoming
    assert link.run(lambda: sid in a.established)
    assert link.run(lambda: bytes(b.received[b.incoming[0].stream_id]) == payload)
    assert link.now == pytest.approx(2.1)  # the SYN came back after the initial RTO (2 s)


def test_early_packets_expire(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    m = StreamManager(keys_b)
    m.listen(0)
    early = Packet(0, 1234, 1, 0, (), 1, int(Flags.NO_ACK), payload=b"x")
    m.receive_payload(early.encode(), 0, 0, 0.0)
    assert m.get_timer() == pytest.approx(10.0)
    m.handle_timer(10.0)
    assert m.counters["pending_expired"] == 1
    assert m.get_timer() is None


def test_duplicate_syn_resends_syn_reply(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a, b = pair.link, pair.a, pair.b
    link.record = True
    a.manager.connect(keys_b.destination, now=0.0)
    [syn] = a.manager.payloads_to_send(0.0)
    b.manager.receive_payload(syn.data, 0, 0, 0.0)
    first = b.manager.payloads_to_send(0.0)
    b.manager.receive_payload(syn.data, 0, 0, 0.5)
    again = b.manager.payloads_to_send(0.5)
    assert len(first) == 1 and len(again) == 1
    assert again[0].data == first[0].data  # same fields, deterministic Ed25519 signature
    assert len(b.incoming) == 0 and len(b.manager.stream_ids) == 1


def test_bad_syns_are_dropped(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    m = StreamManager(keys_b)
    m.listen(0)
    wrong_target = struct.unpack(">8I", keys_a.destination.hash)
    syn = Packet(0, 99, 0, 0, wrong_target, 1, int(Flags.SYNCHRONIZE | Flags.NO_ACK), delay=0)
    syn.from_destination = keys_a.destination
    m.receive_payload(syn.encode_signed(keys_a), 0, 0, 0.0)
    assert m.counters == {"replay_hash_mismatch": 1}
    syn.nacks = ()
    raw = bytearray(syn.encode_signed(keys_a))
    raw[-1] ^= 1
    m.receive_payload(bytes(raw), 0, 0, 0.0)
    unsigned = Packet(
        0, 99, 0, 0, (), 1, int(Flags.SYNCHRONIZE), from_destination=keys_a.destination
    )
    m.receive_payload(unsigned.encode(), 0, 0, 0.0)
    m.receive_payload(b"garbage", 0, 0, 0.0)
    assert (
        m.counters
        == {
            "replay_hash_mismatch": 1,
            "bad_signature": 1,
            "bad_syn": 0,
            "malformed": 1,
        }
        or m.counters["malformed"] == 1
    )
    assert m.stream_ids == [] and m.next_event() is None
    assert m.payloads_to_send(0.0) == []


def test_send_buffer_backpressure(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    opts = StreamOptions(buffer_size=10_000)
    pair = make_pair(keys_a, keys_b, options=opts)
    link, a, b = pair.link, pair.a, pair.b
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert a.manager.send(sid, bytes(25_000), 0.0) == 10_000
    assert a.manager.send(sid, b"more", 0.0) == 0
    assert link.run(
        lambda: any(type(e).__name__ == "SendBufferAvailable" for e in link.events_of(a.manager))
    )
    assert a.manager.stats(sid).send_buffered <= 5_000
    a.write(sid, bytes(15_000), link.now, close=True)
    assert link.run(lambda: len(b.peer_closed) == 1)
    assert len(next(iter(b.received.values()))) == 25_000


def test_choke_stops_new_data(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a, b = pair.link, pair.a, pair.b
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    link.run_for(1.0)
    bsid = b.incoming[0].stream_id
    choke = Packet(sid, bsid, 0, 0, (), 1, 0, delay=60000)  # i2pd's choke value
    a.manager.receive_payload(choke.encode(), 0, 0, link.now)
    a.manager.send(sid, bytes(20_000), link.now)
    out = a.manager.payloads_to_send(link.now)
    assert len(out) == 1  # a single probe packet while choked
    probe = Packet.decode(out[0].data)
    unchoke = Packet(sid, bsid, 0, probe.sequence_num, (), 1, 0, delay=0)
    a.manager.receive_payload(unchoke.encode(), 0, 0, link.now)
    window = a.manager.stats(sid).window
    # the default controller keeps its window over a choke (flow control, not congestion):
    # the unchoke lets the whole window go again
    assert window >= 3 and len(a.manager.payloads_to_send(link.now)) == window
    assert a.manager.stats(sid).unacked == window


def test_stats_and_errors(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a = pair.link, pair.a
    sid = a.manager.connect(keys_b.destination, now=0.0, data=bytes(5000))
    assert link.run(lambda: sum(map(len, pair.b.received.values())) == 5000)
    link.run_for(2.0)
    st = a.manager.stats(sid)
    assert st.bytes_sent == 5000 and st.packets_sent == 3 and st.unacked == 0
    assert st.mtu == 1812 and st.window >= 3 and st.state is State.OPEN
    assert st.packets_retransmitted == 0 and st.rto >= 0.1
    with pytest.raises(ValueError, match="port"):
        a.manager.connect(keys_b.destination, port=70000, now=0.0)
    with pytest.raises(ValueError, match="port"):
        a.manager.listen(-1)
    with pytest.raises(ValueError, match="backlog"):
        a.manager.listen(1, backlog=0)
    with pytest.raises(ValueError, match="send buffer"):
        a.manager.connect(keys_b.destination, now=0.0, data=bytes(300_000))
    with pytest.raises(ValueError, match="unknown stream"):
        a.manager.close(12345, 0.0)
    a.manager.reset(12345, 0.0)  # unknown: ignored
    limited = StreamManager(keys_a, StreamOptions(max_concurrent_streams=1))
    limited.connect(keys_b.destination, now=0.0)
    with pytest.raises(ConnectionError):
        limited.connect(keys_b.destination, now=0.0)


def test_offline_keys_end_to_end(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    off_a = keys_a.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, 4_000_000_000)
    pair = make_pair(off_a, keys_b, echo=True)
    pair.b.manager.epoch_offset = 1_700_000_000.0
    sid = pair.a.manager.connect(keys_b.destination, now=0.0, data=b"ping", close=True)
    assert pair.link.run(lambda: sid in pair.a.closed)
    assert bytes(pair.a.received[sid]) == b"ping"
    # an expired offline block is refused
    old = keys_a.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, 1_000)
    m = StreamManager(old)
    m.connect(keys_b.destination, now=0.0)
    [syn] = m.payloads_to_send(0.0)
    pair.b.manager.receive_payload(syn.data, 0, 0, 0.0)
    assert pair.b.manager.counters["bad_signature"] == 1


def test_timer_heap_is_single_deadline(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    m = StreamManager(keys_a)
    assert m.get_timer() is None
    sids = [m.connect(keys_b.destination, now=float(i)) for i in range(5)]
    m.payloads_to_send(5.0)
    # earliest: the first SYN's RTO at 5 + 2 (initial RTO)
    assert m.get_timer() == pytest.approx(7.0)
    m.reset(sids[0], 5.0)
    assert m.get_timer() == pytest.approx(7.0)  # others share the same RTO deadline
    m.handle_timer(7.0)
    out = m.payloads_to_send(7.0)
    assert len(out) == 4 and all(p.is_syn and not p.want_status for p in out)
    assert m.get_timer() == pytest.approx(7.0 + 4.0)  # doubled
    m.handle_timer(100.0)
    failed = [e for e in iter(m.next_event, None) if isinstance(e, ConnectionFailed)]
    assert len(failed) == 4


def test_reset_event_type_fields() -> None:
    ev = ConnectionReset(1, "x")
    assert ev.by_peer is False


def test_unrequested_ack_follows_within_a_quarter_rtt(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    """i2pd's data packets carry no DELAY request; we ack after SRTT/4, not a flat 500 ms."""
    pair = make_pair(keys_a, keys_b)
    link, a = pair.link, pair.a
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    link.run_for(1.0)
    bsid = pair.b.incoming[0].stream_id
    srtt = a.manager.stats(sid).rtt
    assert srtt is not None
    assert srtt / 4 < 0.5
    now = link.now
    data = Packet(sid, bsid, 1, 0, (), 9, 0, payload=b"from i2pd")  # i2pd style: flags 0
    a.manager.receive_payload(data.encode(), 0, 0, now)
    assert a.manager.payloads_to_send(now) == []
    a.manager.handle_timer(now + srtt / 4 - 0.001)
    assert a.manager.payloads_to_send(now + srtt / 4 - 0.001) == []
    a.manager.handle_timer(now + srtt / 4)
    [ack] = [Packet.decode(p.data) for p in a.manager.payloads_to_send(now + srtt / 4)]
    assert (ack.sequence_num, ack.ack_through, ack.payload) == (0, 1, b"")


def _receiver_after_handshake(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> tuple[Any, int, int, float]:
    """An established stream whose initiator ``a`` is about to receive data; returns
    (a, a's stream id, b's stream id, now)."""
    pair = make_pair(keys_a, keys_b)
    link, a = pair.link, pair.a
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    link.run_for(1.0)
    return a, sid, pair.b.incoming[0].stream_id, link.now


def _run_timers(manager: Any, until: float) -> list[bytes]:
    """Run every timer due up to ``until`` (each may re-arm) and return what was queued."""
    out: list[bytes] = []
    while (due := manager.get_timer()) is not None and due <= until:
        manager.handle_timer(due)
        out += [p.data for p in manager.payloads_to_send(due)]
    return out


def test_every_64th_unacked_packet_is_acked_at_once(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    """A pure receiver does not sit on half a window waiting for its ack timer."""
    a, sid, bsid, now = _receiver_after_handshake(keys_a, keys_b)
    assert ACK_EVERY_PACKETS == 64
    for seq in range(1, ACK_EVERY_PACKETS):
        a.manager.receive_payload(
            Packet(sid, bsid, seq, 0, (), 9, 0, payload=b"x").encode(), 0, 0, now
        )
    assert a.manager.payloads_to_send(now) == []  # 63 waiting: a timer decides
    packet = Packet(sid, bsid, ACK_EVERY_PACKETS, 0, (), 9, 0, payload=b"x")
    a.manager.receive_payload(packet.encode(), 0, 0, now)
    [ack] = [Packet.decode(p.data) for p in a.manager.payloads_to_send(now)]
    assert (ack.sequence_num, ack.ack_through) == (0, ACK_EVERY_PACKETS)


def test_burst_end_is_acked_after_an_idle_gap(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    """Two or more waiting packets are acked once arrivals pause for ACK_IDLE_GAPS average
    gaps (at least ACK_IDLE_MIN), long before the RTT-based delay; every arrival pushes that
    deadline back."""
    a, sid, bsid, now = _receiver_after_handshake(keys_a, keys_b)
    srtt = a.manager.stats(sid).rtt
    assert srtt is not None and srtt / 4 > 0.02  # the RTT-based delay would be far longer
    gap = 0.001  # packets arrive every ms: idle deadline = last arrival + 4 x (average gap)
    t = now
    for seq in range(1, 9):
        t = now + seq * gap
        a.manager.handle_timer(t)
        assert a.manager.payloads_to_send(t) == []  # the burst goes on: no ACK yet
        a.manager.receive_payload(
            Packet(sid, bsid, seq, 0, (), 9, 0, payload=b"x").encode(), 0, 0, t
        )
        assert a.manager.payloads_to_send(t) == []
    idle_end = t + ACK_IDLE_GAPS * gap  # every gap was 1 ms: the average is 1 ms
    assert idle_end > t + ACK_IDLE_MIN
    assert _run_timers(a.manager, idle_end - 1e-4) == []
    [ack] = [Packet.decode(d) for d in _run_timers(a.manager, idle_end + 1e-6)]
    assert (ack.sequence_num, ack.ack_through) == (0, 8)


def test_a_lone_packet_keeps_the_rtt_based_ack_delay(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    """One waiting packet (a request whose reply may carry the ACK) gets no burst-end ACK."""
    a, sid, bsid, now = _receiver_after_handshake(keys_a, keys_b)
    srtt = a.manager.stats(sid).rtt
    assert srtt is not None
    a.manager.receive_payload(Packet(sid, bsid, 1, 0, (), 9, 0, payload=b"x").encode(), 0, 0, now)
    later = now + 10 * ACK_IDLE_MIN
    a.manager.handle_timer(later)
    assert a.manager.payloads_to_send(later) == []
    assert a.manager.get_timer() == pytest.approx(now + srtt / 4)
