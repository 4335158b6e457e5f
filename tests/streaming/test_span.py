"""How far the sender runs past a hole (``recovery.MAX_SEQ_SPAN``) and how our ACK reports
more holes than the NACK field holds (``ReceivePath.ack_point``), in simulated time."""

from __future__ import annotations

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import OutgoingPacket, StreamManager, StreamOptions
from i2p_streaming.streaming.packet import MAX_NACKS, Packet, encode_plain
from i2p_streaming.streaming.recovery import MAX_SEQ_SPAN
from tests.support.link import Impairment
from tests.support.pair import make_pair

HOLE = 600  # well past slow start: the window is full (128) by then


def test_sender_runs_three_windows_past_a_hole_our_receiver_holds(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    # The first four copies of packet HOLE are lost: the hole stays open ~4 RTT. The sender
    # keeps sending new packets until it is MAX_SEQ_SPAN (3 windows) past the hole, and our
    # receiver (512 packets ahead) takes every one of them.
    pair = make_pair(keys_a, keys_b, seed=5, impairment=Impairment(delay=0.15))
    a_mgr = pair.a.manager
    sends: list[tuple[float, int]] = []
    copies = 0

    def drop(pkt: OutgoingPacket, sender: StreamManager) -> bool:
        nonlocal copies
        if sender is not a_mgr or len(pkt.data) < 1000:
            return False
        seq = Packet.decode(pkt.data).sequence_num
        sends.append((pair.link.now, seq))
        if seq == HOLE and copies < 4:
            copies += 1
            return True
        return False

    pair.link.drop = drop
    sid = a_mgr.connect(keys_b.destination, now=0.0)
    size = 2000 * 1812
    pair.a.write(sid, bytes(size), 0.0, close=True)
    assert pair.link.run(lambda: bool(pair.b.peer_closed), max_time=120.0)
    hole_sends = [i for i, (_t, seq) in enumerate(sends) if seq == HOLE]
    assert len(hole_sends) == 5
    highest_before = max(seq for _t, seq in sends[: hole_sends[4]])
    assert highest_before == HOLE + 3 * 128 - 1 == HOLE + MAX_SEQ_SPAN - 1
    assert pair.b.manager.counters.get("out_of_window", 0) == 0
    assert len(bytes(pair.b.received[pair.b.incoming[0].stream_id])) == size
    # nothing but the hole's copies was resent
    assert a_mgr.stats(sid).packets_retransmitted == 4


def test_ack_with_more_holes_than_nacks_pulls_ack_through_back(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    opts = StreamOptions(receive_window=1024, receive_buffer_packets=1024)
    pair = make_pair(keys_a, keys_b, impairment=Impairment(delay=0.05), options=opts)
    sid = pair.a.manager.connect(keys_b.destination, now=0.0, data=b"hi")  # seq 0
    assert pair.link.run(lambda: bool(pair.b.incoming) and bool(pair.a.established))
    pair.link.run_for(2.0)
    b = pair.b.manager
    bid = pair.b.incoming[0].stream_id
    now = pair.link.now
    b.payloads_to_send(now)
    # seq 1 in order, then every other one up to 601: holes at 2, 4, ..., 600 (300 of them)
    for seq in (1, *range(3, 602, 2)):
        b.receive_payload(encode_plain(bid, sid, seq, 0, (), 0, None, b"x" * 100), 0, 0, now)
    acks = [Packet.decode(p.data) for p in b.payloads_to_send(now)]
    assert acks
    ack = acks[-1]
    holes = list(range(2, 601, 2))
    assert ack.nacks == tuple(holes[:MAX_NACKS])
    assert ack.ack_through == holes[MAX_NACKS] - 1  # 511: every packet through it is there
    assert b.counters.get("out_of_window", 0) == 0
