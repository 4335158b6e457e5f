"""The tail probe (``tailprobe.py``) in simulated time over the fake link: a held ACK on a
local router costs one probe, not the RTO; no probe on a clean path or a slow one."""

from __future__ import annotations

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming.manager import StreamManager
from i2p_streaming.streaming.packet import Packet
from i2p_streaming.streaming.records import OutgoingPacket
from i2p_streaming.streaming.rto import RttEstimator
from i2p_streaming.streaming.tailprobe import TAIL_PROBE_MIN, TAIL_PROBES, TailProbe
from tests.support.link import Impairment
from tests.support.pair import make_pair

SIZE = 300 * 1700


def test_probe_arms_only_on_a_fast_path_before_the_rto() -> None:
    rtt = RttEstimator(2.0)
    probe = TailProbe()
    probe.arm(0.0, rtt, 9.0, alone=True)
    assert probe.at is None  # no RTT sample yet
    rtt.update(0.002)
    probe.arm(0.0, rtt, 0.1, alone=False)
    assert probe.at is None  # another stream to the peer has packets in flight
    probe.arm(0.0, rtt, 0.1, alone=True)
    assert probe.at == pytest.approx(TAIL_PROBE_MIN)
    probe.arm(0.0, rtt, 0.005, alone=True)
    assert probe.at is None  # the RTO comes first
    slow = RttEstimator(2.0)
    slow.update(0.3)
    probe.arm(0.0, slow, 1.0, alone=True)
    assert probe.at is None  # over tunnels: a held ACK is the peer's rule, not a stall


def test_probes_are_bounded_between_acks_of_new_data() -> None:
    rtt = RttEstimator(2.0)
    rtt.update(0.002)
    probe = TailProbe()
    fired = 0
    for i in range(5):
        probe.arm(i * 0.02, rtt, 1.0, alone=True)
        assert not probe.due(i * 0.02)
        fired += probe.due(i * 0.02 + TAIL_PROBE_MIN)
    assert fired == TAIL_PROBES
    probe.on_new_ack()
    probe.arm(1.0, rtt, 2.0, alone=True)
    assert probe.due(1.0 + TAIL_PROBE_MIN)


def _data_seq(pkt: OutgoingPacket) -> int | None:
    p = Packet.decode(pkt.data)
    return p.sequence_num if p.payload else None


def test_held_ack_costs_one_probe_not_the_rto(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    # a 2 ms RTT path whose receiver's ACKs are lost for 8 ms once data flows (as i2pd 2.59
    # holds the ACK of a burst): the sender resends its newest packet after ~10 ms, and the
    # duplicate's ACK (once ACKs pass again) covers everything before the 100 ms RTO
    pair = make_pair(keys_a, keys_b, seed=5, impairment=Impairment(delay=0.001))
    link = pair.link
    a = pair.a.manager
    held: list[float] = []
    resends: list[tuple[float, int]] = []
    seen: set[int] = set()

    def drop(pkt: OutgoingPacket, sender: StreamManager) -> bool:
        if sender is a:
            seq = _data_seq(pkt)
            if seq is not None:
                if seq in seen:
                    resends.append((link.now, seq))
                seen.add(seq)
            return False
        if len(seen) >= 40 and not held:
            held.append(link.now)
        return bool(held) and link.now < held[0] + 0.008

    link.drop = drop
    sid = a.connect(keys_b.destination, now=0.0)
    pair.a.write(sid, bytes(SIZE), 0.0, close=True)
    assert link.run(lambda: bool(pair.b.peer_closed), max_time=60.0)
    assert bytes(next(iter(pair.b.received.values()))) == bytes(SIZE)
    assert resends, "the held ACK was never probed"
    first_at, first_seq = resends[0]
    assert first_at - held[0] < 0.05  # the probe, well before the 100 ms minimum RTO
    assert len(resends) <= TAIL_PROBES
    assert first_seq == max(s for s in seen if s <= first_seq)  # the newest packet


def test_no_probe_on_a_clean_fast_path(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b, seed=6, impairment=Impairment(delay=0.001))
    sid = pair.a.manager.connect(keys_b.destination, now=0.0)
    pair.a.write(sid, bytes(SIZE), 0.0, close=True)
    assert pair.link.run(lambda: bool(pair.b.peer_closed), max_time=60.0)
    assert pair.a.manager.stats(sid).packets_retransmitted == 0
