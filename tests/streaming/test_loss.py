"""Reorder-tolerant loss detection (``loss.py``) and pacing (``pacing.py``) of the send path,
in simulated time over the fake link: counts and behaviour, never timings."""

from __future__ import annotations

import itertools

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import OutgoingPacket, StreamManager
from i2p_streaming.streaming.loss import LossDetector
from i2p_streaming.streaming.pacing import PACING_BURST, Pacer
from i2p_streaming.streaming.packet import Packet
from i2p_streaming.streaming.records import SentPacket
from tests.support.link import Impairment
from tests.support.pair import Pair, make_pair

PACKETS = 3000


def _transfer(pair: Pair, packets: int = PACKETS) -> int:
    sid = pair.a.manager.connect(pair.b.manager.destination, now=0.0)
    pair.a.write(sid, bytes(packets * 1700), 0.0, close=True)
    assert pair.link.run(lambda: bool(pair.b.peer_closed), max_time=600.0)
    assert len(pair.b.received[next(iter(pair.b.received))]) == packets * 1700
    return sid


def _data_seqs(pkt: OutgoingPacket) -> int:
    return Packet.decode(pkt.data).sequence_num if len(pkt.data) > 1000 else -1


def test_reordering_without_loss_causes_almost_no_retransmissions(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    # 10 % of the packets arrive 80 ms late on a 100 ms round trip; nothing is lost. The
    # NACK-count rule resent 284 of them; the reordering window learns the delay instead.
    imp = Impairment(delay=0.05, reorder=0.1, reorder_delay=0.08)
    pair = make_pair(keys_a, keys_b, seed=1, impairment=imp)
    sid = _transfer(pair)
    st = pair.a.manager.stats(sid)
    assert pair.link.dropped == 0
    assert st.packets_retransmitted <= 20  # the first few, before the window adapts


@pytest.mark.parametrize("loss", [0.01, 0.03])
def test_random_loss_is_recovered_by_nacks_not_by_timeouts(
    keys_a: PrivateKeys, keys_b: PrivateKeys, loss: float
) -> None:
    # FIFO path (no jitter): every data packet lost is resent once, each after about one RTT
    sends: dict[int, list[float]] = {}
    drops: dict[int, int] = {}
    pair = make_pair(keys_a, keys_b, seed=3, impairment=Impairment(delay=0.15))

    def drop(pkt: OutgoingPacket, sender: StreamManager) -> bool:
        seq = _data_seqs(pkt) if sender is pair.a.manager else -1
        if seq < 0:
            return False
        sends.setdefault(seq, []).append(pair.link.now)
        if pair.link.rng.random() < loss:
            drops[seq] = drops.get(seq, 0) + 1
            return True
        return False

    pair.link.drop = drop
    sid = _transfer(pair)
    assert sum(drops.values()) >= 10
    # every lost copy was resent exactly once, and nothing that got through was resent
    assert {s: len(t) - 1 for s, t in sends.items() if len(t) > 1} == drops
    assert pair.a.manager.stats(sid).packets_retransmitted == sum(drops.values())
    for times in sends.values():  # no copy waited for a (backed-off) timeout
        # (a hole at the end of a flight is found by the next flight's ack, up to ~1.5 RTT
        # later; a timeout backed off once would wait 2 x RTO, 0.9 s)
        assert all(b - a < 2 * 0.3 for a, b in itertools.pairwise(times))


def test_a_lost_retransmission_is_found_and_resent_within_a_round_trip(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    pair = make_pair(keys_a, keys_b, seed=4, impairment=Impairment(delay=0.15))
    times: list[float] = []

    def drop(pkt: OutgoingPacket, sender: StreamManager) -> bool:
        if sender is not pair.a.manager or _data_seqs(pkt) != 400:
            return False
        times.append(pair.link.now)
        return len(times) <= 2  # the original and the first resend are lost

    pair.link.drop = drop
    sid = _transfer(pair, 1500)
    assert len(times) == 3 and pair.a.manager.stats(sid).packets_retransmitted == 2
    assert times[2] - times[1] < 1.2 * 0.3  # one round trip plus the ack, not an RTO


def _sent(seq: int, at: float) -> SentPacket:
    e = SentPacket(seq, 0, b"x")
    e.transmitted(at)
    return e


def test_the_reordering_window_widens_on_an_unneeded_resend() -> None:
    d = LossDetector()
    srtt = 0.1
    d.on_acked(_sent(1, 0.0), 0.1, srtt)  # min RTT 100 ms
    assert d.reorder_window(srtt) == 0.0  # no reordering seen: a hole is lost at once
    hole = _sent(2, 0.01)
    hole.reported_missing()
    d.on_acked(_sent(3, 0.02), 0.12, srtt)
    assert d.detect([hole], 0.12, srtt) == [hole]
    hole.transmitted(0.12)  # resent; the original arrives 20 ms later and is acked
    d.on_acked(hole, 0.14, srtt)
    assert d.spurious == 1 and d.reordering
    assert d.reorder_window(srtt) == pytest.approx(0.025)  # min RTT / 4
    late = _sent(4, 0.2)
    late.reported_missing()
    d.on_acked(_sent(5, 0.21), 0.31, srtt)
    assert d.detect([late], 0.31, srtt) == []  # not yet: the window has not passed
    assert d.deadline == pytest.approx(0.2 + 0.1 + 0.025)
    assert d.detect([late], 0.33, srtt) == [late]
    late.transmitted(0.33)
    d.on_acked(late, 0.35, srtt)  # unneeded again, a round trip later: one more step
    assert d.reorder_window(srtt) == pytest.approx(0.05)


def test_pacing_spreads_a_burst_and_is_off_on_a_fast_path() -> None:
    p = Pacer()
    srtt, window = 0.3, 128
    burst = 0
    while p.admit(0.0, window, srtt):
        burst += 1
    assert burst == PACING_BURST  # a new stream's bucket
    burst = 0
    while p.admit(5.0, window, srtt):
        burst += 1
    assert burst == window // 8  # after an idle period: the bucket of a 128-packet window
    release = p.release_at
    assert release is not None
    assert release == pytest.approx(5.0 + srtt / (2.0 * window))  # then one per 1 / rate
    assert not p.admit(release - 1e-4, window, srtt)
    assert p.admit(release, window, srtt)
    fast = Pacer()
    assert all(fast.admit(0.0, window, 0.002) for _ in range(1000))  # local router


def test_a_full_window_never_leaves_in_one_burst(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b, seed=5, impairment=Impairment(delay=0.15))
    pair.link.record = True
    sid = _transfer(pair, 2000)
    at: dict[float, int] = {}
    for d in pair.link.sent_by(pair.a.manager):
        if len(d.packet.data) > 1000:
            at[d.at] = at.get(d.at, 0) + 1
    assert pair.a.manager.stats(sid).window == 128
    assert max(at.values()) <= 128 // 8  # at most one bucket at any instant
