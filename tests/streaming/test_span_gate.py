"""The span gate (``streaming/span.py``): where the peer's in-order point will be when a new
packet arrives, when a hole's resend goes twice, and the probe that shows what the peer
holds; unit checks of :class:`SendSpan` and one run in simulated time."""

from __future__ import annotations

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming.records import SentPacket
from i2p_streaming.streaming.recovery import MAX_SEQ_SPAN, PROBE_SEQ_SPAN, SAFE_SEQ_SPAN
from i2p_streaming.streaming.span import SendSpan
from tests.support.link import Impairment
from tests.support.pair import make_pair

NOW = 100.0
RTO = 1.0


def _flight(hole_state: str) -> dict[int, SentPacket]:
    """A hole at 0 (in the state named), 1..199 acked, 200..299 on their way."""
    hole = SentPacket(0, 0, b"x")
    hole.transmitted(NOW - 2.0)
    if hole_state == "resent":
        hole.reported_missing()
        hole.transmitted(NOW - 0.1)
    elif hole_state == "nacked":
        hole.reported_missing()
    unacked = {0: hole}
    for seq in range(200, 300):
        e = SentPacket(seq, 0, b"x")
        e.transmitted(NOW - 0.5)
        unacked[seq] = e
    return unacked


def _safe(past_resends: bool = True) -> SendSpan:
    span = SendSpan(past_resends)
    span.on_choke()
    assert span.limit == SAFE_SEQ_SPAN
    return span


@pytest.mark.parametrize(
    ("hole_state", "queued", "overdue", "allowed"),
    [
        ("resent", False, NOW - RTO, True),  # its resend is on its way: Java will be past it
        ("resent", True, NOW - RTO, False),  # found lost again, resend not sent yet
        ("nacked", False, NOW - RTO, False),  # NACKed, never resent
        ("resent", False, NOW, False),  # its resend is older than the RTO: likely lost
    ],
)
def test_a_hole_counts_while_it_will_still_be_missing(
    hole_state: str, queued: bool, overdue: float, allowed: bool
) -> None:
    span = _safe()
    unacked = _flight(hole_state)
    resend = {0} if queued else set()
    # 300 is 300 past the oldest unacked packet (0), 100 past the next one (200)
    assert span.allows(300, unacked, 128, resend, overdue) is allowed
    assert span.allows(127, {0: unacked[0]}, 128, resend, overdue)  # within 128 of it anyway


def test_by_default_a_hole_holds_the_sender_until_it_is_acked() -> None:
    span = _safe(past_resends=False)  # StreamOptions.span_past_resends is off by default
    assert not span.allows(300, _flight("resent"), 128, set(), NOW - RTO)
    assert span.allows(127, _flight("resent"), 128, set(), NOW - RTO)
    span.on_lost(10, 1000)
    assert not span.twice(128)


def test_the_gate_never_runs_more_than_three_windows_past_the_oldest() -> None:
    span = _safe()
    unacked = _flight("resent")
    assert span.allows(383, unacked, 128, set(), NOW - RTO)
    assert not span.allows(384, unacked, 128, set(), NOW - RTO)
    assert not span.allows(3 * 20, unacked, 20, set(), NOW - RTO)  # 3 x a window of 20


def test_while_probing_the_span_counts_from_the_oldest_unacked() -> None:
    span = SendSpan()
    assert span.limit == PROBE_SEQ_SPAN
    assert not span.allows(300, _flight("resent"), 128, set(), NOW - RTO)
    span.on_ack(ack_through=140, hole=0, holes=1)  # 140 past a hole: more than Java holds
    assert span.limit == MAX_SEQ_SPAN
    assert span.allows(300, _flight("nacked"), 128, set(), NOW - RTO)  # 300 < 384


def test_a_resend_the_span_relies_on_goes_twice_when_losses_make_it_worth_it() -> None:
    span = _safe()
    assert not span.twice(128)  # nothing lost yet
    span.on_lost(10, 1000)  # 1 %: a lost resend would cost ~ 1.28 packets, a copy costs 1
    assert span.twice(128)
    rare = _safe()
    rare.on_lost(1, 10_000)  # 0.01 %: not worth a copy
    assert not rare.twice(128)
    ours = SendSpan(True)
    ours.on_ack(ack_through=140, hole=0, holes=1)
    ours.on_lost(10, 1000)
    assert not ours.twice(128)  # a peer that holds 3 windows needs no copies


def test_the_probe_holds_resends_until_new_packets_pass_javas_limit() -> None:
    span = SendSpan()
    hole = 1000
    assert not span.hold_resends(hole, hole + 50, NOW, 0.4)  # window not near full: no probe
    assert span.hold_resends(hole, hole + 100, NOW, 0.4)  # starts: at most SRTT / 4
    assert span.hold_resends(hole, hole + 120, NOW + 0.05, 0.4)
    assert not span.hold_resends(hole, hole + 142, NOW + 0.06, 0.4)  # past the limit: go
    assert span.hold_resends(hole + 500, hole + 600, NOW + 1.0, 0.4)  # a second probe
    assert not span.hold_resends(hole + 500, hole + 610, NOW + 1.2, 0.4)  # SRTT / 4 passed


def test_the_probe_proves_our_receiver_at_the_first_hole(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    # 600 ms RTT, one packet lost at a full window: within two round trips of its loss the
    # span is MAX_SEQ_SPAN (the resend waited for packets 130+ past the hole, and our
    # receiver acked them). Left to chance this took up to 48 s at 1 % loss.
    pair = make_pair(keys_a, keys_b, seed=2, impairment=Impairment(delay=0.3))
    a = pair.a.manager
    lost_at: list[float] = []

    def drop(pkt: object, sender: object) -> bool:
        data = getattr(pkt, "data", b"")
        if sender is not a or len(data) < 1000 or lost_at:
            return False
        seq = int.from_bytes(data[8:12], "big")
        if seq == 1200:
            lost_at.append(pair.link.now)
            return True
        return False

    pair.link.drop = drop
    sid = a.connect(keys_b.destination, now=0.0)
    pair.a.write(sid, bytes(3000 * 1812), 0.0, close=True)
    conn = a._conns[sid]
    assert pair.link.run(lambda: bool(lost_at))
    assert conn.send.span.limit == PROBE_SEQ_SPAN
    assert pair.link.run(lambda: conn.send.span.limit == MAX_SEQ_SPAN, max_time=60.0)
    assert pair.link.now - lost_at[0] < 2 * 0.6 + 0.3
    assert pair.link.run(lambda: bool(pair.b.peer_closed), max_time=120.0)
