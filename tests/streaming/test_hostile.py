"""Hostile peers against one streaming core, in simulated time (issue 13).

Each test drives a listening :class:`StreamManager` with packets built by other managers or by
hand, and asserts that what a hostile peer does is dropped and counted, never raised, and
that the state an honest peer depends on is unchanged.
"""

from __future__ import annotations

import random

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import (
    DataReceived,
    IncomingConnection,
    StreamManager,
    StreamOptions,
)
from i2p_streaming.streaming.packet import (
    CLOSE,
    DELAY_REQUESTED,
    RESET,
    Packet,
    encode_plain,
)
from i2p_streaming.streaming.records import OutgoingPacket, State
from tests.support.link import FakeLink, Impairment
from tests.support.pair import make_pair


def _deliver(packets: list[OutgoingPacket], to: StreamManager, now: float) -> None:
    for pkt in packets:
        if pkt.destination == to.destination:
            to.receive_payload(pkt.data, pkt.src_port, pkt.dst_port, now)


def _feed(server: StreamManager, syn: bytes, now: float) -> None:
    """Deliver ``syn`` and accept every announced stream at once (as the asyncio shell does)."""
    server.receive_payload(syn, 0, 0, now)
    while (ev := server.next_event()) is not None:
        if isinstance(ev, IncomingConnection):
            server.accepted(ev.stream_id)


def _syns(client: StreamManager, server: PrivateKeys, n: int, now: float) -> list[bytes]:
    for _ in range(n):
        client.connect(server.destination, now=now)
    return [p.data for p in client.payloads_to_send(now)]


def _legit_connect(server: StreamManager, now: float) -> tuple[StreamManager, int, float]:
    """An honest client connects over a clean 50 ms link; returns when it is established."""
    client = StreamManager(PrivateKeys.generate(), rng=random.Random(7))
    link = FakeLink([client, server], Impairment(delay=0.05), seed=1)
    link.now = now
    sid = client.connect(server.destination, now=now)
    ok = link.run(lambda: client.state(sid) is State.OPEN, max_time=now + 120.0)
    assert ok, client.counters
    return client, sid, link.now - now


# ------------------------------------------------------------------ 1. SYN floods
def test_syn_flood_from_one_destination_does_not_shut_the_listener(keys_b: PrivateKeys) -> None:
    server = StreamManager(keys_b)
    server.listen()
    attacker = StreamManager(PrivateKeys.generate())
    for i, syn in enumerate(_syns(attacker, keys_b, 5000, 0.0)):
        _feed(server, syn, i * 0.001)
    server.payloads_to_send(5.0)  # the SYN replies go to the attacker, who never acks
    opts = server.options
    assert len(server.stream_ids) <= opts.max_half_open_per_peer
    assert server.counters["half_open_evicted"] == 5000 - opts.max_half_open_per_peer
    assert "refused_backlog" not in server.counters
    _client, _sid, took = _legit_connect(server, 5.0)
    assert took < 1.0  # its first SYN got in: no retransmission (initial RTO 9 s)


def test_syn_flood_from_many_destinations_evicts_the_oldest(keys_b: PrivateKeys) -> None:
    server = StreamManager(keys_b)
    server.listen()
    pool = [StreamManager(PrivateKeys.generate()) for _ in range(250)]
    syns = [s for m in pool for s in _syns(m, keys_b, 20, 0.0)]
    random.Random(3).shuffle(syns)
    for i, syn in enumerate(syns):
        _feed(server, syn, i * 0.001)
    server.payloads_to_send(5.0)
    assert len(syns) == 5000
    assert len(server.stream_ids) == server.options.max_half_open
    _client, _sid, took = _legit_connect(server, 5.0)
    assert took < 1.0


def test_half_open_streams_expire_quickly(keys_b: PrivateKeys) -> None:
    server = StreamManager(keys_b)
    server.listen()
    for syn in _syns(StreamManager(PrivateKeys.generate()), keys_b, 100, 0.0):
        _feed(server, syn, 0.0)
    t = 0.0
    while server.stream_ids and t < 400.0:
        t = server.get_timer() or t + 1.0
        server.handle_timer(t)
        server.payloads_to_send(t)
    assert not server.stream_ids
    assert t <= server.options.half_open_timeout + 1.0  # was 333 s (nine SYN-reply sends)
    assert server.counters["half_open_expired"] == 100


def test_full_backlog_drops_the_syn_silently(keys_b: PrivateKeys) -> None:
    server = StreamManager(keys_b)
    server.listen(backlog=2)
    client = StreamManager(PrivateKeys.generate())
    for syn in _syns(client, keys_b, 3, 0.0):
        server.receive_payload(syn, 0, 0, 0.0)
    out = server.payloads_to_send(0.0)
    assert len(out) == 2 and not any(Packet.decode(p.data).flags & RESET for p in out)
    assert server.counters["backlog_full"] == 1
    first = server.next_event()
    assert isinstance(first, IncomingConnection)
    server.accepted(first.stream_id)  # the application took one: room for the retry
    for syn in _syns(client, keys_b, 1, 1.0):
        server.receive_payload(syn, 0, 0, 1.0)
    assert len(server.stream_ids) == 3


def test_thousand_concurrent_honest_connects_all_succeed(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    pair = make_pair(keys_a, keys_b, impairment=Impairment(delay=0.1, jitter=0.02), seed=5)
    sids = [pair.a.manager.connect(keys_b.destination, now=0.0) for _ in range(1000)]
    assert pair.link.run(lambda: len(pair.a.established) == 1000, max_time=60.0)
    assert set(sids) == pair.a.established and not pair.a.failed
    assert pair.link.now < 9.0  # no SYN had to be retransmitted


# ------------------------------------------------------------------ 2. forged packets
def _open_pair(
    keys_a: PrivateKeys, keys_b: PrivateKeys, options: StreamOptions
) -> tuple[FakeLink, StreamManager, StreamManager, int, int]:
    pair = make_pair(keys_a, keys_b, impairment=Impairment(delay=0.05), options=options)
    sid = pair.a.manager.connect(keys_b.destination, now=0.0, data=b"hi")
    assert pair.link.run(lambda: bool(pair.b.incoming) and bool(pair.a.established))
    pair.link.run_for(2.0)
    return pair.link, pair.a.manager, pair.b.manager, sid, pair.b.incoming[0].stream_id


def _forged(flags: int, send_id: int, recv_id: int, seq: int = 1) -> bytes:
    """A packet claiming ``flags`` with a bogus signature (an off-path forger)."""
    evil = PrivateKeys.generate()
    return Packet(send_id, recv_id, seq, 0, (), 0, flags).encode_signed(evil)


def test_forged_resets_do_not_keep_a_dead_stream_alive(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    opts = StreamOptions(inactivity_timeout=10.0, inactivity_action=1)
    link, a, b, sid, bid = _open_pair(keys_a, keys_b, opts)
    peer_id = sid
    link.managers.remove(a)
    link.by_dest.pop(a.destination)  # the client vanishes
    t = link.now
    while t < 60.0 and b.state(bid) is not None:
        t += 2.0
        b.receive_payload(_forged(RESET, bid, peer_id), 0, 0, t)
        b.handle_timer(t)
        b.payloads_to_send(t)
    assert b.state(bid) is None and t <= 16.0
    assert b.counters["bad_signature"] >= 1


def test_forged_close_and_reset_change_nothing(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    link, _a, b, sid, bid = _open_pair(keys_a, keys_b, StreamOptions())
    before = b.stats(bid)
    for flags in (RESET, CLOSE, CLOSE | RESET):
        b.receive_payload(_forged(flags, bid, sid), 0, 0, link.now)
    after = b.stats(bid)
    assert b.state(bid) is State.OPEN
    assert b.counters["bad_signature"] == 3
    assert (after.state, after.bytes_received) == (before.state, before.bytes_received)


def test_out_of_window_sequence_numbers_are_dropped(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    link, _a, b, sid, bid = _open_pair(keys_a, keys_b, StreamOptions())
    for seq in (StreamOptions().receive_window + 1, 10_000, 2**32 - 1):
        b.receive_payload(encode_plain(bid, sid, seq, 0, (), 0, None, b"x" * 100), 0, 0, link.now)
    assert b.counters["out_of_window"] == 3
    assert b.stats(bid).receive_buffered == 0 and b.state(bid) is State.OPEN


def test_replayed_syn_and_foreign_replay_hash_are_dropped(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    server = StreamManager(keys_b)
    server.listen()
    client = StreamManager(keys_a)
    client.connect(keys_b.destination, now=0.0)
    syn = client.payloads_to_send(0.0)[0].data
    server.receive_payload(syn, 0, 0, 0.0)
    _deliver(server.payloads_to_send(0.0), client, 0.1)
    _deliver(client.payloads_to_send(0.1), server, 0.2)  # the ack: established
    (sid,) = server.stream_ids
    server.reset(sid, 1.0)
    server.payloads_to_send(1.0)
    server.receive_payload(syn, 0, 0, 2.0)  # the same SYN again
    assert server.counters["replayed_syn"] == 1 and not server.stream_ids
    other = StreamManager(PrivateKeys.generate())
    other.listen()
    other.receive_payload(syn, 0, 0, 0.0)  # a SYN made for keys_b, replayed to another
    assert other.counters["replay_hash_mismatch"] == 1 and not other.stream_ids


def test_truncated_and_oversize_packets_are_dropped(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    link, _a, b, sid, bid = _open_pair(keys_a, keys_b, StreamOptions())
    good = encode_plain(bid, sid, 1, 0, (), 0, None, b"y" * 100)
    for n in (0, 1, 10, 21, len(good) - 101):
        b.receive_payload(good[:n], 0, 0, link.now)
    huge = encode_plain(bid, sid, 1, 0, (), 0, None, b"z" * 70_000)
    b.receive_payload(huge, 0, 0, link.now)
    assert b.counters.get("malformed", 0) + b.counters.get("receive_buffer_full", 0) >= 5
    assert b.internal_errors == 0 and b.state(bid) is State.OPEN


# ------------------------------------------------------------------ 3. session budget
def test_session_budget_bounds_memory_of_sixty_attacker_streams(keys_b: PrivateKeys) -> None:
    budget = 4 * 1024 * 1024
    server = StreamManager(keys_b, StreamOptions(max_session_buffer=budget))
    server.listen()
    streams: list[tuple[int, int]] = []  # (server id, attacker id)
    for _ in range(60):
        attacker = StreamManager(PrivateKeys.generate())
        aid = attacker.connect(keys_b.destination, now=0.0)
        server.receive_payload(attacker.payloads_to_send(0.0)[0].data, 0, 0, 0.0)
        ev = server.next_event()
        assert isinstance(ev, IncomingConnection)
        streams.append((ev.stream_id, aid))
    for seq in range(2, 127):  # seq 1 never comes: everything waits out of order
        for bid, aid in streams:
            data = encode_plain(bid, aid, seq, 0, (), 0, None, bytes(1800))
            server.receive_payload(data, 0, 0, 1.0)
    held = sum(server.stats(bid).receive_buffered for bid, _ in streams)
    assert held <= budget + budget // 8  # without the budget: 60 x 223 KB = 13 MB
    assert server.counters["session_buffer_full"] > 0
    assert server.internal_errors == 0


def test_delay_zero_is_acked_at_once(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    link, _a, b, sid, bid = _open_pair(keys_a, keys_b, StreamOptions())
    now = link.now
    b.receive_payload(encode_plain(bid, sid, 1, 0, (), DELAY_REQUESTED, 0, b"q"), 0, 0, now)
    out = b.payloads_to_send(now)
    assert any(Packet.decode(p.data).ack_through == 1 for p in out)


def test_any_delay_above_60000_is_a_choke(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    for delay in (60001, 61000, 65535):
        link, _a, b, sid, bid = _open_pair(keys_a, keys_b, StreamOptions())
        pkt = encode_plain(bid, sid, 0, 0, (), DELAY_REQUESTED, delay, b"")
        b.receive_payload(pkt, 0, 0, link.now)
        assert b.stats(bid).choked, delay


def test_data_before_the_syn_is_queued_not_dropped(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    server = StreamManager(keys_b)
    server.listen()
    client = StreamManager(keys_a)
    sid = client.connect(keys_b.destination, now=0.0, data=b"a" * 3000)
    out = client.payloads_to_send(0.0)
    assert len(out) >= 2
    for pkt in reversed(out):  # the data packet overtakes the SYN
        server.receive_payload(pkt.data, pkt.src_port, pkt.dst_port, 0.1)
    got = b"".join(ev.data for ev in iter(server.next_event, None) if isinstance(ev, DataReceived))
    assert got == b"a" * 3000 and server.counters.get("held_early") == 1
    assert sid


# ------------------------------------------------------------------ 6. silent peers, records
def test_silent_peer_with_keepalive_is_dropped_in_twice_the_inactivity(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    opts = StreamOptions(inactivity_timeout=5.0, inactivity_action=2)
    link, a, b, _sid, bid = _open_pair(keys_a, keys_b, opts)
    start = link.now
    link.managers.remove(a)
    link.by_dest.pop(a.destination)
    assert link.run(lambda: b.state(bid) is None, max_time=start + 300.0)
    assert link.now - start <= 2 * 5.0 + 1.0  # was 159 s


def test_closed_stream_records_are_bounded(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b, impairment=Impairment(delay=0.01), echo=True)
    for _ in range(1000):
        sid = pair.a.manager.connect(keys_b.destination, now=pair.link.now, data=b"x", close=True)
        closed = pair.a.closed
        assert pair.link.run(lambda s=sid, c=closed: s in c, max_time=pair.link.now + 60.0)  # type: ignore[misc]
    assert len(pair.a.manager.stream_ids) <= 256 + 1  # was 1,000 (TIME-WAIT 300 s)
    assert len(pair.b.manager.stream_ids) <= 256 + 1
