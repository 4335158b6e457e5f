"""Options, RTO estimator, congestion controller and manager edge cases."""

from __future__ import annotations

import logging
import random

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.errors import InvalidStateError
from i2p_streaming.streaming import (
    Flags,
    OutgoingPacket,
    Packet,
    State,
    StreamManager,
    StreamOptions,
)
from i2p_streaming.streaming.congestion import RenoController
from i2p_streaming.streaming.receiving import ReceivePath
from i2p_streaming.streaming.rto import RttEstimator
from i2p_streaming.streaming.timers import Timer, TimerHeap
from tests.support.link import Impairment
from tests.support.pair import make_pair


def test_options_from_properties() -> None:
    opts = StreamOptions.from_properties(
        {
            "i2p.streaming.initialWindowSize": "6",
            "i2p.streaming.initialRTO": "3000",
            "i2p.streaming.connectTimeout": "0",
            "i2p.streaming.answerPings": "false",
            "i2p.streaming.maxMessageSize": "1812",
            "i2p.streaming.profile": "bulk",  # known Java key, ignored
            "inbound.length": "2",  # other layer, ignored
        }
    )
    assert opts.initial_window_size == 6
    assert opts.initial_rto == 3.0
    assert opts.connect_timeout == 60.0
    assert opts.answer_pings is False
    assert opts.max_message_size == 1812
    assert opts.as_dict()["max_window_size"] == 128
    assert StreamOptions.from_properties({"i2p.streaming.answerPings": "yes"}).answer_pings


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"i2p.streaming.maxWindowSiz": "5"}, "did you mean 'i2p.streaming.maxWindowSize'"),
        ({"i2p.streaming.zzzzzz": "5"}, "unknown streaming option"),
        ({"i2p.streaming.maxWindowSize": "500"}, "between 1 and 128"),
        ({"i2p.streaming.maxWindowSize": "many"}, "expected an integer"),
        ({"i2p.streaming.initialRTO": "10"}, "between 100 and 45000 ms"),
        ({"i2p.streaming.answerPings": "perhaps"}, "expected true or false"),
    ],
)
def test_options_rejects(props: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StreamOptions.from_properties(props)


def test_options_validate_direct_construction() -> None:
    with pytest.raises(ValueError, match="receive_window"):
        StreamOptions(receive_window=10)
    with pytest.raises(ValueError, match="max_message_size"):
        StreamOptions(max_message_size=100)


def test_rtt_estimator() -> None:
    r = RttEstimator(9.0)
    assert r.rto == 9.0 and r.rtt is None
    r.update(1.0)
    assert (r.srtt, r.rttvar, r.rto) == (1.0, 0.5, 3.0)
    r.update(1.0)
    assert r.rttvar == pytest.approx(0.375) and r.rto == pytest.approx(2.5)
    r.on_timeout()
    assert r.rto == pytest.approx(5.0)
    for _ in range(10):
        r.on_timeout()
    assert r.rto == 45.0
    r.update(-1.0)  # clock weirdness is clamped
    fast = RttEstimator(9.0)
    fast.update(0.001)
    assert fast.rto == 0.1
    slow = RttEstimator(9.0)
    slow.update(100.0)
    assert slow.srtt == 60.0 and slow.rto == 45.0


def test_reno_controller() -> None:
    cc = RenoController(3, 128, 64)
    cc.on_ack(2, 0.0)
    assert cc.window == 5
    cc.on_ack(100, 0.0)
    assert cc.window == 64  # slow start stops at ssthresh
    for _ in range(64):
        cc.on_ack(1, 0.0)
    assert cc.window == 65  # one packet per window of acks
    cc.on_fast_retransmit(0.0)
    assert cc.window == 32 and cc.ssthresh == 32
    cc.on_timeout(0.0)
    assert cc.window == 1 and cc.ssthresh == 16
    cc.on_choke()
    assert cc.window == 1
    small = RenoController(3, 4, 64)
    small.ssthresh = 2
    for _ in range(50):
        small.on_ack(3, 0.0)
    assert small.window == 4


def test_unknown_and_odd_packets_are_counted(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    m = StreamManager(keys_b, rng=random.Random(1))
    m.receive_payload(Packet(42, 1, 1, 0).encode(), 0, 0, 0.0)
    m.receive_payload(Packet(0, 0, 1, 0).encode(), 0, 0, 0.0)
    m.receive_payload(Packet(0, 7, 0, 0, flags=int(Flags.RESET)).encode(), 0, 0, 0.0)
    m.receive_payload(Packet(0, 7, 0, 0, flags=int(Flags.ECHO)).encode(), 0, 0, 0.0)  # pong
    m.receive_payload(Packet(9, 0, 0, 0, flags=int(Flags.ECHO)).encode(), 0, 0, 0.0)  # no FROM
    syn = Packet(0, 0, 0, 0, flags=int(Flags.SYNCHRONIZE))
    syn.from_destination = keys_a.destination
    m.receive_payload(syn.encode_signed(keys_a), 0, 0, 0.0)  # receive id 0
    ping = Packet(9, 0, 0, 0, flags=int(Flags.ECHO), from_destination=keys_a.destination)
    ping.signature = bytes(64)
    m.receive_payload(ping.encode(), 0, 0, 0.0)  # bad signature
    assert m.counters == {
        "unknown_stream": 3,
        "unknown_pong": 1,
        "ping_ignored": 1,
        "bad_syn": 1,
        "bad_signature": 1,
    }
    assert m.payloads_to_send(0.0) == [] and m.next_event() is None
    assert m.state(42) is None


def test_pending_limits(keys_b: PrivateKeys) -> None:
    m = StreamManager(keys_b)
    for rid in range(1, 70):
        m.receive_payload(Packet(0, rid, 1, 0).encode(), 0, 0, 0.0)
    for seq in range(2, 20):
        m.receive_payload(Packet(0, 1, seq, 0).encode(), 0, 0, 5.0)
    assert m.counters["held_early"] == 64 + 15
    assert m.counters["pending_full"] == 5 + 3
    m.handle_timer(10.0)
    assert m.counters["pending_expired"] == 63
    assert m.get_timer() == pytest.approx(15.0)
    m.handle_timer(15.0)
    assert m.counters["pending_expired"] == 64


def test_keepalive_and_inactivity_reset(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    opts = StreamOptions(inactivity_timeout=30.0)
    pair = make_pair(keys_a, keys_b, options=opts)
    link, a = pair.link, pair.a
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    link.run_for(35.0)  # both sides sent a keep-alive (empty packet, new sequence number)
    assert a.manager.stats(sid).packets_sent == 2
    assert a.manager.state(sid) is State.OPEN
    a.manager.close(sid, link.now)
    link.run_for(40.0)  # our CLOSE acked, the peer never closes: inactivity ends it
    [b_reset] = pair.b.reset.values()
    assert "no activity for 30 s" in b_reset.reason  # the half-closed side gives up
    # we end too: by its RESET, or by our own timer when its ACK of our CLOSE came at once
    # (DELAY 0) and our 30 s ran out first
    assert a.reset[sid].by_peer or "no activity for 30 s" in a.reset[sid].reason
    reset_opts = StreamOptions(inactivity_timeout=5.0, inactivity_action=1)
    pair = make_pair(keys_a, keys_b, options=reset_opts)
    sid = pair.a.manager.connect(keys_b.destination, now=0.0)
    pair.link.run_for(6.0)
    assert sid in pair.a.reset and len(pair.b.reset) == 1


def test_close_is_idempotent_and_lost_peer_close(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a, b = pair.link, pair.a, pair.b
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    bsid = b.incoming[0].stream_id
    b.manager.close(bsid, link.now)
    link.run_for(1.0)
    assert sid in a.peer_closed
    # from now on the peer vanishes (like i2pd deleting the stream): our empty CLOSE is
    # abandoned after a few sends because the peer's CLOSE was already received
    link.impairment.blackhole = True
    a.manager.close(sid, link.now)
    a.manager.close(sid, link.now)
    assert link.run(lambda: sid in a.closed)
    assert not a.reset
    stats_sent = sum(1 for e in link.events_of(a.manager) if type(e).__name__ == "ConnectionClosed")
    assert stats_sent == 1


def test_heap_compaction_keeps_deadlines() -> None:
    heap = TimerHeap()
    timer = Timer(lambda now: None)
    for i in range(600):  # deadlines moving earlier push new entries
        heap.schedule(timer, 8.0 - i * 0.001)
    assert len(heap) < 600
    assert heap.next_deadline() == pytest.approx(8.0 - 0.599)
    heap.schedule(timer, 9.0)  # later: ignored, the earlier deadline stands
    assert heap.pop_due(7.0) == []
    assert heap.pop_due(8.0) == [timer] and timer.at is None and heap.next_deadline() is None
    heap.schedule(timer, 1.0)
    heap.cancel(timer)
    assert heap.next_deadline() is None and heap.pop_due(2.0) == []


def test_out_queue_is_bounded(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    m = StreamManager(keys_b)  # nobody listens: every SYN gets a RESET
    syn = Packet(0, 5, 0, 0, flags=int(Flags.SYNCHRONIZE), from_destination=keys_a.destination)
    raw = syn.encode_signed(keys_a)
    for _ in range(1030):
        m.receive_payload(raw, 0, 0, 0.0)
    assert len(m.payloads_to_send(0.0)) == 1024
    assert m.counters["out_queue_full"] == 6


def test_internal_errors_are_logged_counted_and_dropped(
    keys_a: PrivateKeys,
    keys_b: PrivateKeys,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a, b = pair.link, pair.a, pair.b
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)

    def boom(self: ReceivePath, *args: object) -> int:
        raise RuntimeError("bug in accept")

    monkeypatch.setattr(ReceivePath, "accept", boom)
    with caplog.at_level(logging.ERROR, logger="i2p_streaming.streaming.manager"):
        a.write(sid, b"hello", link.now)
        # the data packet reaches b, whose core fails on it
        assert link.run(lambda: b.manager.internal_errors > 0)
    assert b.manager.internal_errors == 1 and b.manager.counters["internal_error"] == 1
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None and "bug in accept" in str(record.exc_info[1])
    assert "packet dropped" in record.getMessage()
    assert not b.received  # dropped, not half-delivered
    monkeypatch.undo()
    assert link.run(lambda: bytes(b.received[b.incoming[0].stream_id]) == b"hello")
    assert a.manager.stats(sid).packets_retransmitted >= 1  # the dropped packet came again
    assert a.manager.internal_errors == 0


def test_caller_misuse_raises_invalid_state(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    m = StreamManager(keys_a)
    for call in (
        lambda: m.send(12345, b"x", 0.0),
        lambda: m.close(12345, 0.0),
        lambda: m.stats(12345),
    ):
        with pytest.raises(InvalidStateError, match="unknown stream id 12345"):
            call()
    assert issubclass(InvalidStateError, ValueError)  # shells that catch ValueError still do
    sid = m.connect(keys_b.destination, now=0.0)
    m.close(sid, 0.0)
    with pytest.raises(BrokenPipeError):
        m.send(sid, b"x", 0.0)


def test_reordering_link_triggers_fast_retransmit(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b, impairment=Impairment(delay=0.05, loss=0.05), seed=3)
    link, a, b = pair.link, pair.a, pair.b
    sid = a.manager.connect(keys_b.destination, now=0.0)
    payload = bytes(range(256)) * 1000
    a.write(sid, payload, 0.0, close=True)
    assert link.run(lambda: len(b.peer_closed) == 1)
    assert bytes(next(iter(b.received.values()))) == payload
    assert a.manager.stats(sid).packets_retransmitted > 0


def test_westwood_cuts_to_the_bandwidth_delay_product() -> None:
    from i2p_streaming.streaming.congestion import WestwoodController

    cc = WestwoodController(3, 128, 64)
    cc.on_fast_retransmit(0.0)
    assert (cc.window, cc.ssthresh) == (2, 2)  # no estimate yet: halves like Reno
    cc = WestwoodController(40, 128, 64)
    cc.on_rtt_sample(0.5, 0.0)
    cc.on_rtt_sample(0.4, 0.0)
    cc.on_delivered(1, 0.0)  # opens the first sampling interval
    for i in range(1, 41):  # 100 packets/s for 4 s, sampled every min RTT
        cc.on_delivered(10, i * 0.1)
    assert cc.bandwidth == pytest.approx(100.0, rel=0.01)
    cc.on_fast_retransmit(4.0, holes=2)  # (a single hole here would be forgiven)
    # 100/s x 0.4 s x 9/8 (peer's ack delay): the window fits the path
    assert (cc.window, cc.ssthresh) == (40, 45)
    cc.window = 60
    cc.on_fast_retransmit(4.1)
    assert (cc.window, cc.ssthresh) == (45, 45)  # queueing: cut to the BDP
    cc.on_timeout(4.2)
    assert (cc.window, cc.ssthresh) == (1, 45)


def _window_after_one_loss(keys_a: PrivateKeys, keys_b: PrivateKeys, controller: str) -> int:
    """The sender's smallest window after its window peaked and packet 150 was lost once."""
    opts = StreamOptions(congestion_control=controller)
    pair = make_pair(keys_a, keys_b, options=opts, impairment=Impairment(delay=0.1))
    dropped: list[int] = []

    def drop(pkt: OutgoingPacket, sender: StreamManager) -> bool:
        big = sender is pair.a.manager and len(pkt.data) > 1000 and not dropped
        if big and Packet.decode(pkt.data).sequence_num == 150:
            dropped.append(150)
            return True
        return False

    pair.link.drop = drop
    sid = pair.a.manager.connect(keys_b.destination, now=0.0)
    pair.a.write(sid, bytes(400 * 1800), 0.0, close=True)
    windows: list[int] = []

    def done() -> bool:
        windows.append(pair.a.manager.stats(sid).window)
        return bool(pair.b.peer_closed)

    assert pair.link.run(done, max_time=200.0)
    assert dropped and pair.a.manager.stats(sid).packets_retransmitted == 1
    peak = windows.index(max(windows))
    return min(windows[peak:])


def test_congestion_control_is_chosen_by_name(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    # one random loss on an uncongested path: Westwood keeps most of the window (its cut to
    # the delivery rate x min RTT: paced slow start has no back-to-back bursts that read as a
    # rate above the window's, 53 of 65 here), Reno halves it
    assert _window_after_one_loss(keys_a, keys_b, "westwood") >= 48
    assert _window_after_one_loss(keys_a, keys_b, "reno") <= 33
    opts = StreamOptions.from_properties({"i2p.streaming.congestionControl": "Reno"})
    assert opts.congestion_control == "reno"
    assert StreamOptions().congestion_control == "i2p"
    with pytest.raises(ValueError, match="known: i2p, reno, westwood"):
        StreamOptions.from_properties({"i2p.streaming.congestionControl": "cubic"})
    with pytest.raises(ValueError, match="'cubic' is not one of i2p, reno, westwood"):
        StreamOptions(congestion_control="cubic")
