"""Bulk vs interactive profile: coalescing (Nagle), ACK requests, window cap, the SYN flag."""

from __future__ import annotations

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import Packet, StreamManager, StreamOptions
from i2p_streaming.streaming.options import PROFILE_INTERACTIVE
from i2p_streaming.streaming.packet import Flags
from i2p_streaming.streaming.profiles import INTERACTIVE_MAX_WINDOW
from tests.support.pair import Pair, make_pair

BULK = StreamOptions()
INTERACTIVE = StreamOptions.from_properties({"i2p.streaming.profile": "2"})


def data_packets(pair: Pair, manager: StreamManager) -> list[Packet]:
    out = []
    for d in pair.link.sent:
        if d.sender is manager:
            p = Packet.decode(d.packet.data)
            if p.payload and not p.flags & Flags.SYNCHRONIZE:
                out.append(p)
    return out


def small_writes(keys_a: PrivateKeys, keys_b: PrivateKeys, opts: StreamOptions) -> Pair:
    pair = make_pair(keys_a, keys_b, options=opts)
    link, a, b = pair.link, pair.a, pair.b
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    link.run_for(1.0)
    link.record = True
    for i in range(40):  # 40 writes of 50 bytes, 50 ms apart
        a.write(sid, bytes([i]) * 50, link.now)
        link.run_for(0.05)
    assert link.run(lambda: sum(map(len, b.received.values())) == 2000)
    assert bytes(next(iter(b.received.values()))) == b"".join(bytes([i]) * 50 for i in range(40))
    return pair


def test_bulk_coalesces_interactive_sends_at_once(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pb = small_writes(keys_a, keys_b, BULK)
    pi = small_writes(keys_a, keys_b, INTERACTIVE)
    bulk = data_packets(pb, pb.a.manager)
    inter = data_packets(pi, pi.a.manager)
    assert len(inter) == 40 and all(len(p.payload) == 50 for p in inter)
    # bulk (Nagle): a write with nothing in flight goes at once; later small writes wait for
    # the ACK of the packet in flight (one 100 ms round trip = two writes), never longer
    # than the 175 ms passive flush
    assert sum(len(p.payload) for p in bulk) == 2000
    assert [len(p.payload) for p in bulk] == [50, 50] + [100] * 19
    # interactive asks for an immediate ACK on every data packet
    assert all(p.flags & Flags.DELAY_REQUESTED and p.delay == 0 for p in inter)


def test_bulk_sends_full_packets_at_once(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b)
    link, a = pair.link, pair.a
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    link.run_for(1.0)
    link.record = True
    mtu = BULK.max_message_size
    a.write(sid, bytes(mtu * 2 + 100), link.now)
    link.pump()
    assert [len(p.payload) for p in data_packets(pair, a.manager)] == [mtu, mtu]
    link.run_for(0.2)  # the 100-byte tail goes after the passive flush delay
    assert [len(p.payload) for p in data_packets(pair, a.manager)] == [mtu, mtu, 100]
    a.write(sid, b"bye", link.now, close=True)  # CLOSE flushes at once
    link.pump()
    assert data_packets(pair, a.manager)[-1].payload == b"bye"


@pytest.mark.parametrize("opts", [BULK, INTERACTIVE], ids=["bulk", "interactive"])
def test_one_byte_echo_latency(
    keys_a: PrivateKeys, keys_b: PrivateKeys, opts: StreamOptions
) -> None:
    pair = make_pair(keys_a, keys_b, options=opts, echo=True)
    link, a = pair.link, pair.a
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    link.run_for(2.0)
    start = link.now
    a.write(sid, b"k", link.now)
    assert link.run(lambda: bytes(a.received[sid]) == b"k")
    latency = link.now - start
    # one round trip of the 50 ms link in both profiles: a bulk stream holds a partial
    # packet only behind data in flight (Nagle), and here nothing is in flight either way
    assert latency == pytest.approx(0.1)


def test_interactive_flag_in_syn_and_small_window(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b, options=INTERACTIVE, options_b=BULK)
    link, a, b = pair.link, pair.a, pair.b
    link.record = True
    sid = a.manager.connect(keys_b.destination, now=0.0)
    a.write(sid, bytes(200_000), 0.0, close=True)
    assert link.run(lambda: len(b.peer_closed) == 1)
    packets = [(d.sender, Packet.decode(d.packet.data)) for d in link.sent]
    syn = next(p for s, p in packets if s is a.manager)
    assert syn.flags & Flags.SYNCHRONIZE and syn.flags & Flags.PROFILE_INTERACTIVE
    assert all(
        not p.flags & Flags.PROFILE_INTERACTIVE
        for s, p in packets
        if s is a.manager and p is not syn
    )
    reply = next(p for s, p in packets if s is b.manager)
    assert (
        reply.flags & Flags.SYNCHRONIZE and not reply.flags & Flags.PROFILE_INTERACTIVE
    )  # b is bulk
    assert a.manager.stats(sid).window <= INTERACTIVE_MAX_WINDOW
    assert INTERACTIVE.profile == PROFILE_INTERACTIVE and INTERACTIVE.interactive
    # a bulk sender's window grows past the interactive cap on the same transfer
    bulk = make_pair(keys_a, keys_b)
    sid2 = bulk.a.manager.connect(keys_b.destination, now=0.0)
    bulk.a.write(sid2, bytes(200_000), 0.0)
    assert bulk.link.run(lambda: sum(map(len, bulk.b.received.values())) == 200_000)
    assert bulk.a.manager.stats(sid2).window > INTERACTIVE_MAX_WINDOW


def test_profile_option_values() -> None:
    assert StreamOptions.from_properties({"i2p.streaming.profile": "1"}).profile == 1
    assert StreamOptions.from_properties({"i2p.streaming.profile": "interactive"}).interactive
    with pytest.raises(ValueError, match="between 1 and 2"):
        StreamOptions.from_properties({"i2p.streaming.profile": "3"})
    with pytest.raises(ValueError, match="profile"):
        StreamOptions(profile=0)
