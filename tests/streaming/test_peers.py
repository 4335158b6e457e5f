"""The per-peer shared RTT and aggregate window (``peers.py``): counts, not timings."""

from __future__ import annotations

from i2p_streaming.streaming import StreamOptions
from i2p_streaming.streaming.peers import PeerShare, PeerTable


def test_busy_streams_split_the_aggregate_window() -> None:
    share = PeerShare(StreamOptions())
    for sid in range(4):
        share.sent(sid, True)
    assert share.busy_streams == 4
    assert share.cc.window >= 4  # at least one packet per busy stream
    assert share.window() == -(-share.cc.window // 4)
    for _ in range(3):
        share.sent(0, False)
    # stream 0 holds 4 of the aggregate's in-flight packets: at its floor share and the
    # aggregate is used up, so it waits; a stream with nothing beyond its floor may send
    assert share.full(4)
    share.acked(0, 4, True, 1.0)
    assert share.busy_streams == 3 and not share.full(0)


def test_one_streams_timeout_is_a_loss_while_others_are_acked() -> None:
    share = PeerShare(StreamOptions())
    share.rtt.update(0.3)
    for sid in range(2):
        share.sent(sid, True)
    for i in range(1, 6):  # the controller has seen a steady path: no queue, few losses
        share.cc.on_rtt_sample(0.3, 0.3 * i)
        share.cc.on_delivered(40, 0.3 * i)
    before = share.cc.window
    share.acked(1, 1, False, 10.0)
    share.on_timeout(10.1)  # stream 0 timed out, stream 1 had data acked 0.1 s ago
    assert share.cc.window == before  # a random loss: the window stays
    share.on_timeout(20.0)  # nothing acked within the RTO: the path stalled
    assert share.cc.window == 1


def test_table_shares_per_peer_and_forgets_with_the_last_stream() -> None:
    table = PeerTable()
    opts = StreamOptions()
    a = table.acquire(b"p" * 32, opts, None)
    assert table.acquire(b"p" * 32, opts, None) is a and a.shared
    assert table.acquire(b"q" * 32, opts, None) is not a
    table.release(b"p" * 32, opts, 1, 0)
    assert len(table) == 2 and not a.shared
    table.release(b"p" * 32, opts, 2, 0)
    assert len(table) == 1
