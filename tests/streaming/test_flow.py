"""Flow control: read credit, choke / unchoke, the choked sender's probes, keep-alive."""

from __future__ import annotations

import hashlib

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import (
    ConnectionReset,
    OutgoingPacket,
    Packet,
    StreamManager,
    StreamOptions,
)
from i2p_streaming.streaming.flow import SEND_DELAY_CHOKE, UNCHOKES_TO_SEND, ReceiveFlow
from i2p_streaming.streaming.packet import Flags
from tests.support.link import Impairment
from tests.support.pair import Pair, make_pair

SIZE = 1 << 20
BOUND = StreamOptions().receive_buffer_bytes  # maxMessageSize x (512 + 4)
OVERFILL = BOUND * 5 // 4  # more than the receive buffer holds


def sent(pair: Pair, manager: StreamManager) -> list[Packet]:
    return [Packet.decode(d.packet.data) for d in pair.link.sent if d.sender is manager]


def slow_reader_pair(keys_a: PrivateKeys, keys_b: PrivateKeys, **kw: object) -> tuple[Pair, int]:
    pair = make_pair(keys_a, keys_b, auto_consume=False, **kw)  # type: ignore[arg-type]
    pair.link.record = True
    pair.b.reading = False
    sid = pair.a.manager.connect(keys_b.destination, now=0.0)
    assert pair.link.run(lambda: sid in pair.a.established)
    return pair, sid


def test_slow_reader_chokes_sender_which_probes_then_completes(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    pair, sid = slow_reader_pair(keys_a, keys_b)
    link, a, b = pair.link, pair.a, pair.b
    data = hashlib.sha256(b"seed").digest() * (SIZE // 32)
    a.write(sid, data, link.now, close=True)
    assert link.run(lambda: a.manager.stats(sid).choked)
    bsid = b.incoming[0].stream_id
    # the receiver refused what did not fit and told the sender at once (plain ACK, 61000)
    chokes = [p for p in sent(pair, b.manager) if p.delay == SEND_DELAY_CHOKE]
    assert chokes and chokes[0].sequence_num == 0 and not chokes[0].payload
    assert b.manager.counters["receive_buffer_full"] >= 1
    assert b.manager.stats(bsid).choking
    # the application reads nothing for two minutes: the sender only probes
    link.run_for(1.0)
    highest = max(p.sequence_num for p in sent(pair, a.manager))
    mark, probes = len(link.sent), a.manager.counters["persist_probe"]
    link.run_for(120.0)
    later = [Packet.decode(d.packet.data) for d in link.sent[mark:] if d.sender is a.manager]
    assert later, "the choked sender must probe"
    assert all(p.sequence_num <= highest for p in later)  # no new data, nothing skipped
    assert len(later) <= 12  # backed-off probes, not a flood
    assert a.manager.counters["persist_probe"] - probes == len(later)
    assert a.manager.state(sid) is not None  # answered probes never give up
    st = b.manager.stats(bsid)
    assert st.receive_buffered == b.unread <= BOUND
    # the reader drains: everything arrives, byte-exact, and the buffer never overflowed
    b.reading = True
    b.read(bsid, b.unread, link.now)
    assert link.run(lambda: bsid in b.peer_closed, max_time=300.0)
    assert bytes(b.received[bsid]) == data
    assert b.manager.stats(bsid).receive_peak <= BOUND
    unchoke = [p for p in sent(pair, b.manager) if p.flags & Flags.DELAY_REQUESTED and p.delay == 0]
    assert len(unchoke) >= UNCHOKES_TO_SEND
    assert not a.reset and not b.reset


def test_lost_unchoke_is_recovered_by_the_probe(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair, sid = slow_reader_pair(keys_a, keys_b)
    link, a, b = pair.link, pair.a, pair.b
    lost: list[float] = []

    def drop_unchokes(pkt: object, sender: StreamManager) -> bool:
        if sender is b.manager and b.reading and not lost:
            p = Packet.decode(pkt.data)  # type: ignore[attr-defined]
            if p.flags & Flags.DELAY_REQUESTED and p.delay == 0 and not p.payload:
                lost.append(link.now)
                return True  # the first plain unchoke ACK is lost
        return False

    link.drop = drop_unchokes
    data = bytes(range(256)) * (OVERFILL // 256)
    a.write(sid, data, link.now, close=True)
    assert link.run(lambda: a.manager.stats(sid).choked)
    link.run_for(5.0)
    bsid = b.incoming[0].stream_id
    b.reading = True
    b.read(bsid, b.unread, link.now)
    assert link.run(lambda: bsid in b.peer_closed, max_time=300.0)
    assert lost  # the unchoke did get lost
    assert bytes(b.received[bsid]) == data
    assert a.manager.counters["persist_probe"] >= 1


def test_choked_sender_gives_up_when_probes_go_unanswered(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    pair, sid = slow_reader_pair(keys_a, keys_b)
    link, a = pair.link, pair.a
    a.write(sid, bytes(2 * BOUND), link.now)
    assert link.run(lambda: a.manager.stats(sid).choked)
    link.impairment.blackhole = True
    assert link.run(lambda: sid in a.reset, max_time=2000.0)
    assert "probes while it choked" in a.reset[sid].reason
    assert a.manager.counters["persist_probe"] >= 8  # maxResends unanswered probes at least


def test_receive_flow_accounting() -> None:
    flow = ReceiveFlow(10_000, 8, 1000, auto_consume=False)
    assert flow.admit(1000, True, 0, 0)
    flow.delivered(1000)
    ooo_bytes = 0
    for i in range(6):  # out of order: never the last packet slot / last MTU
        assert flow.admit(1000, False, i, ooo_bytes)
        ooo_bytes += 1000
    assert flow.used(6, ooo_bytes) == (7000, 7)
    assert not flow.admit(1000, False, 6, ooo_bytes)  # 8 packets > 8 - 1
    assert flow.choking and flow.delay_option() == SEND_DELAY_CHOKE
    assert flow.admit(1000, True, 6, ooo_bytes)  # the gap filler still fits
    assert not flow.admit(3001, True, 6, ooo_bytes)  # but not more bytes than the bound
    assert not flow.consumed(500, 6, ooo_bytes)  # 6500 bytes, 7 packets: above half
    assert flow.used(6, ooo_bytes) == (6500, 7)
    assert flow.consumed(10_000, 0, 0)  # over-credit is clamped; unchoke now
    assert flow.used(0, 0) == (0, 0)
    assert [flow.delay_option() for _ in range(UNCHOKES_TO_SEND + 1)] == [0] * 8 + [None]
    assert flow.peak_bytes == 8000 and flow.peak_packets == 8
    auto = ReceiveFlow(10_000, 8, 1000, auto_consume=True)
    auto.delivered(5000)
    assert auto.used(0, 0) == (0, 0) and not auto.consumed(5000, 0, 0)
    assert flow.admit(0, False, 0, 0)  # empty packets cost no bytes


def test_consumed_arguments(keys_a: PrivateKeys) -> None:
    m = StreamManager(keys_a, auto_consume=False)
    assert m.consumed(1234, 10, 0.0) is False  # unknown stream: ignored
    with pytest.raises(ValueError, match=">= 0"):
        m.consumed(1234, -1, 0.0)


def test_receiver_chokes_on_out_of_order_flood(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    opts = StreamOptions(receive_buffer_packets=8, receive_buffer_size=65536)
    pair = make_pair(keys_a, keys_b, options_b=opts, auto_consume=False)
    link, a, b = pair.link, pair.a, pair.b
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    link.run_for(1.0)
    bsid = b.incoming[0].stream_id
    peer = a.manager.stats(sid).peer_stream_id
    for seq in range(2, 20):  # seq 1 is missing: all of these are out of order
        pkt = Packet(bsid, sid, seq, 0, (), 1, 0, payload=bytes(1000))
        b.manager.receive_payload(pkt.encode(), 0, 0, link.now)
    st = b.manager.stats(bsid)
    assert st.choking and st.receive_buffered == 7000  # 8 packets, one kept for the gap
    out = [Packet.decode(o.data) for o in b.manager.payloads_to_send(link.now)]
    assert out[-1].delay == SEND_DELAY_CHOKE and out[-1].ack_through == 8
    assert out[-1].nacks == (1,)
    assert peer == bsid


def test_filling_the_gap_ends_the_choke_with_auto_consume(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    # With auto_consume (the default) nobody reports reads: the packet that fills the gap
    # delivers what waited behind it, and that must end the choke (before, the receiver
    # stayed choking for good: 600 packets at 3 % loss took 200-400 s instead of ~10 s).
    opts = StreamOptions(receive_buffer_packets=8, receive_buffer_size=65536)
    pair = make_pair(keys_a, keys_b, options_b=opts)
    link, a, b = pair.link, pair.a, pair.b
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    link.run_for(1.0)
    bsid, now = b.incoming[0].stream_id, link.now
    for seq in [*range(2, 12), 1]:  # 2..8 kept, 9..11 refused (choke), then the gap
        pkt = Packet(bsid, sid, seq, 0, (), 1, 0, payload=bytes(1000))
        b.manager.receive_payload(pkt.encode(), 0, 0, now)
    assert b.manager.counters["receive_buffer_full"] == 3
    assert not b.manager.stats(bsid).choking
    last = Packet.decode(b.manager.payloads_to_send(now)[-1].data)
    assert (last.ack_through, last.nacks, last.delay) == (8, (), 0)  # the unchoke, at once


@pytest.mark.parametrize("action", [0, 1, 2])
def test_inactivity_actions(keys_a: PrivateKeys, keys_b: PrivateKeys, action: int) -> None:
    opts = StreamOptions(inactivity_action=action, inactivity_timeout=90.0)
    pair = make_pair(keys_a, keys_b, options=opts)
    link, a, b = pair.link, pair.a, pair.b
    link.record = True
    sid = a.manager.connect(keys_b.destination, now=0.0, data=b"x")
    assert link.run(lambda: sid in a.established)
    link.run_for(2.0)
    mark, start = len(link.sent), link.now
    link.run_for(95.0)
    later = [(d.sender, Packet.decode(d.packet.data)) for d in link.sent[mark:]]
    if action == 0:
        assert later == [] and a.manager.state(sid) is not None
    elif action == 1:
        # both sides give up after 90 s idle; the first RESET ends the other side too
        resets = [p for _, p in later if p.flags & 0x4]
        assert resets and a.manager.stream_ids == [] and b.manager.stream_ids == []
        events = [e for e in link.events_of(a.manager) if isinstance(e, ConnectionReset)]
        assert events and ("no activity" in events[0].reason or events[0].by_peer)
        assert link.now - start >= 88.0
    else:
        keepalives = [
            p for s, p in later if p.payload == b"" and p.sequence_num > 0 and not p.flags & 0x7
        ]
        assert keepalives, later
        assert keepalives[0].send_stream_id != 0
        assert a.manager.state(sid) is not None and b.manager.stream_ids
        assert not a.reset and not b.reset


def test_connect_timeout_error_is_clear(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    opts = StreamOptions.from_properties({"i2p.streaming.connectTimeout": "5000"})
    pair = make_pair(keys_a, keys_b, options=opts, impairment=Impairment(blackhole=True))
    sid = pair.a.manager.connect(keys_b.destination, port=80, now=0.0)
    assert pair.link.run(lambda: sid in pair.a.failed)
    reason = pair.a.failed[sid].reason
    assert pair.link.now == pytest.approx(5.0)
    assert keys_b.destination.b32 in reason and "port 80" in reason and "timed out" in reason


def test_unanswered_unchoke_is_sent_again(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    flow = ReceiveFlow(10_000, 8, 1000, auto_consume=False)
    flow.arm_unchoke_retry(0.0, 0.2)
    assert flow.unchoke_retry_at == 1.0 and not flow.unchoke_retry_due(0.5)
    due = [t for t in (1.0, 3.0, 7.0, 15.0, 31.0, 63.0) if flow.unchoke_retry_due(t)]
    assert due == [1.0, 3.0, 7.0, 15.0, 31.0] and flow.unchoke_retry_at is None
    # over the fake link: the sender never hears the unchoke nor gets to probe in time
    pair, sid = slow_reader_pair(keys_a, keys_b)
    link, a, b = pair.link, pair.a, pair.b
    a.write(sid, bytes(OVERFILL), link.now, close=True)
    assert link.run(lambda: a.manager.stats(sid).choked)
    bsid = b.incoming[0].stream_id
    dropped: list[Packet] = []

    def drop_first_unchoke(pkt: OutgoingPacket, sender: StreamManager) -> bool:
        p = Packet.decode(pkt.data)
        if sender is b.manager and p.flags & Flags.DELAY_REQUESTED and p.delay == 0 and not dropped:
            dropped.append(p)
            return True
        return False

    link.drop = drop_first_unchoke
    b.reading = True
    b.read(bsid, b.unread, link.now)
    assert link.run(lambda: bsid in b.peer_closed, max_time=300.0)
    assert dropped and len(bytes(b.received[bsid])) == OVERFILL
