"""Loss recovery and the default ``i2p`` controller (issue 12), in simulated time over the
fake link: counts and behaviour, never timings."""

from __future__ import annotations

import itertools

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming.congestion import TunnelController
from i2p_streaming.streaming.recovery import MAX_SYN_RTO
from i2p_streaming.streaming.rto import RttEstimator
from tests.support.link import Impairment
from tests.support.pair import make_pair


def test_rto_floor_covers_ack_delay_and_jitter() -> None:
    r = RttEstimator(2.0)
    for _ in range(50):
        r.update(0.3)  # a jitter-free path: RTTVAR decays to ~0
    assert r.rttvar < 0.001
    assert r.rto == pytest.approx(0.45)  # SRTT + SRTT/2, not SRTT + 4 x RTTVAR ~ SRTT


def test_backoff_is_cleared_by_new_acks_without_a_sample() -> None:
    r = RttEstimator(2.0)
    r.update(0.3)
    base = r.rto
    for _ in range(6):
        r.on_timeout()
    assert r.backed_off and r.rto == 45.0
    r.on_new_ack()  # Karn: an ack of a retransmission gives no sample, the back-off ends
    assert not r.backed_off and r.rto == base


def test_random_losses_keep_the_window_but_queueing_cuts_it() -> None:
    assert TunnelController(3, 128).ssthresh == 128  # no fixed ssthresh of 64
    cc = TunnelController(128, 128)
    now = 0.0
    for _ in range(10):  # the path delivers 40 packets per 300 ms round trip
        now += 0.3
        cc.on_rtt_sample(0.3, now)
        cc.on_delivered(40, now)
    for _ in range(3):  # random losses (~2 %), the RTT at its minimum: nothing to cut
        cc.on_loss(1, now)
        cc.on_fast_retransmit(now, 1)
    assert cc.window == 128
    for _ in range(4):  # the RTT rises 60 % above its minimum: a queue
        now += 0.5
        cc.on_rtt_sample(0.48, now)
        cc.on_delivered(40, now)
    cc.on_loss(1, now)
    cc.on_fast_retransmit(now, 1)
    assert cc.window == 64 and cc.ssthresh == 64  # cut to the estimate, at most by half


def test_clustered_losses_cut_the_window() -> None:
    cc = TunnelController(128, 128)
    for i in range(1, 5):
        cc.on_rtt_sample(0.3, 0.3 * i)
        cc.on_delivered(40, 0.3 * i)
    cc.on_loss(40, 1.5)  # a third of a window lost at once: tail drop, not random loss
    cc.on_fast_retransmit(1.5, 40)
    assert cc.window == 64


@pytest.mark.timeout(120)
@pytest.mark.parametrize("seed", range(20))
def test_one_megabyte_at_thirty_percent_loss_completes(
    keys_a: PrivateKeys, keys_b: PrivateKeys, seed: int
) -> None:
    # default options (maxResends 8): the stream must not give up while the peer answers
    pair = make_pair(keys_a, keys_b, seed=seed, impairment=Impairment(delay=0.15, loss=0.3))
    sid = pair.a.manager.connect(keys_b.destination, now=0.0)
    data = bytes(range(256)) * (1_000_000 // 256)
    pair.a.write(sid, data, 0.0, close=True)
    assert pair.link.run(lambda: bool(pair.b.peer_closed), max_time=3600.0)
    assert not pair.a.failed and not pair.a.reset
    assert bytes(pair.b.received[next(iter(pair.b.received))]) == data


def test_backed_off_timeouts_send_spaced_copies_and_still_give_up(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    pair = make_pair(keys_a, keys_b, impairment=Impairment(delay=0.15))
    sid = pair.a.manager.connect(keys_b.destination, now=0.0)
    assert pair.link.run(lambda: sid in pair.a.established)
    pair.link.impairment.blackhole = True  # the peer is gone
    pair.link.record = True
    pair.a.write(sid, b"x" * 100, pair.link.now)
    assert pair.link.run(lambda: sid in pair.a.reset, max_time=3600.0)
    sends = [d.at for d in pair.link.sent_by(pair.a.manager) if d.packet.data.endswith(b"x" * 100)]
    # the first send, 8 timeouts (maxResends), and from the second back-off on two copies
    # spaced over each interval
    assert len(sends) == 1 + 8 + 2 * 7


def test_no_spurious_retransmission_on_a_clean_path(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    pair = make_pair(keys_a, keys_b, seed=1, impairment=Impairment(delay=0.15))
    sid = pair.a.manager.connect(keys_b.destination, now=0.0)
    pair.a.write(sid, bytes(2000 * 1700), 0.0, close=True)
    assert pair.link.run(lambda: bool(pair.b.peer_closed), max_time=600.0)
    st = pair.a.manager.stats(sid)
    assert st.packets_retransmitted == 0
    assert st.window == 128  # slow start reached the maximum window


def test_parallel_streams_share_a_clean_path_fairly(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    pair = make_pair(keys_a, keys_b, seed=2, impairment=Impairment(delay=0.15))
    sids = [pair.a.manager.connect(keys_b.destination, now=0.0) for _ in range(8)]
    for sid in sids:
        pair.a.write(sid, bytes(200 * 1700), 0.0, close=True)
    assert pair.link.run(lambda: len(pair.b.peer_closed) == 8, max_time=600.0)
    assert all(pair.a.manager.stats(s).packets_retransmitted == 0 for s in sids)
    sizes = [len(bytes(v)) for v in pair.b.received.values()]
    assert sizes == [200 * 1700] * 8


@pytest.mark.timeout(120)
@pytest.mark.parametrize("rate", [20_000_000.0, 2_000_000.0])
def test_hundred_streams_share_a_queue_without_retransmissions(
    keys_a: PrivateKeys, keys_b: PrivateKeys, rate: float
) -> None:
    # 100 streams to one peer through one FIFO (nothing dropped): a shared RTT and window
    # (peers.py) keep every RTO above the queueing delay and give equal streams equal shares
    link = Impairment(delay=0.001, rate=rate)  # 2 ms RTT: the queue is most of the delay
    pair = make_pair(keys_a, keys_b, seed=3, listen=None, impairment=link)
    pair.b.manager.listen(0, backlog=1024)
    size = 200 * 1700
    sids = [pair.a.manager.connect(keys_b.destination, now=0.0) for _ in range(100)]
    for sid in sids:
        pair.a.write(sid, bytes(size), 0.0, close=True)
    done: dict[int, float] = {}

    def finished() -> bool:
        for sid, data in pair.b.received.items():
            if sid not in done and len(data) == size:
                done[sid] = pair.link.now
        return len(done) == 100

    assert pair.link.run(finished, max_time=600.0)
    assert sum(pair.a.manager.stats(s).packets_retransmitted for s in sids) == 0
    assert max(done.values()) <= 2 * min(done.values())


def test_syn_retries_fit_the_connect_timeout(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b)
    sends: list[float] = []
    link = pair.link

    def drop(pkt: object, sender: object) -> bool:
        sends.append(link.now)
        return True  # every SYN is lost

    link.drop = drop
    sid = pair.a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in pair.a.failed)
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(sends)]
    assert gaps == [2.0] + [MAX_SYN_RTO] * 14  # 0, 2, 6, 10, ..., 58 s: 16 tries
