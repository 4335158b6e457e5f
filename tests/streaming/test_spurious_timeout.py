"""A timeout whose acks show it was spurious undoes its window cut (RFC 4015 / 5682), in the
default controller only; in simulated time over the fake link."""

from __future__ import annotations

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import OutgoingPacket, StreamManager, StreamOptions
from i2p_streaming.streaming.congestion import RenoController, TunnelController
from tests.support.link import Impairment
from tests.support.pair import make_pair


def test_the_default_controller_undoes_a_spurious_timeout_once() -> None:
    cc = TunnelController(3, 128)
    for _ in range(200):
        cc.on_ack(1, 0.0)
    before = (cc.window, cc.ssthresh)
    assert before[0] > 60
    cc.on_timeout(1.0)
    assert cc.window == 1
    cc.on_spurious_timeout()
    assert cc.window == before[0] and cc.ssthresh >= before[1]
    cc.on_timeout(2.0)
    cc.on_loss(60, 2.1)  # a loss rate far above the tolerance: a confirmed congestion cut
    cc.on_fast_retransmit(2.1, 5)
    cut = cc.window
    cc.on_spurious_timeout()  # the timeout is not undone past a confirmed cut
    assert cc.window == cut
    reno = RenoController(3, 128)
    reno.window = 100
    reno.on_timeout(1.0)
    reno.on_spurious_timeout()
    assert reno.window == 1  # the comparison baselines keep their cut


@pytest.mark.parametrize(("controller", "restored"), [("i2p", True), ("reno", False)])
def test_lost_acks_that_cause_a_timeout_do_not_cost_the_window(
    keys_a: PrivateKeys, keys_b: PrivateKeys, controller: str, restored: bool
) -> None:
    # Every ACK of the receiver is lost for 1 s at a full window (nothing else): the sender
    # times out although all its data arrived; the first ACK after that acks packets that
    # were never resent, so the timeout was spurious and the window comes back.
    opts = StreamOptions(congestion_control=controller)
    pair = make_pair(keys_a, keys_b, seed=4, impairment=Impairment(delay=0.15), options=opts)
    a, b = pair.a.manager, pair.b.manager
    blackout: list[float] = []

    def drop(pkt: OutgoingPacket, sender: StreamManager) -> bool:
        return sender is b and bool(blackout) and blackout[0] <= pair.link.now < blackout[1]

    pair.link.drop = drop
    sid = a.connect(keys_b.destination, now=0.0)
    pair.a.write(sid, bytes(4000 * 1812), 0.0, close=True)
    pair.link.run_for(4.0)  # slow start done (Reno's ends at its ssthresh)
    window = a.stats(sid).window
    assert window >= 32
    rtx = a.stats(sid).packets_retransmitted
    blackout[:] = [pair.link.now, pair.link.now + 1.0]
    assert pair.link.run(lambda: a.stats(sid).packets_retransmitted > rtx, max_time=5.0)
    assert a.stats(sid).window == 1  # the timeout cut it
    pair.link.run_for(1.0 + 0.3 + 0.05)  # the blackout ends; one round trip of acks
    assert (a.stats(sid).window >= window) is restored
    assert pair.link.run(lambda: bool(pair.b.peer_closed), max_time=120.0)
    assert len(bytes(pair.b.received[pair.b.incoming[0].stream_id])) == 4000 * 1812
