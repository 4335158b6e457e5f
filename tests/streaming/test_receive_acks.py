"""The receiver's ACK timing after a choke (i2pd 2.56's choked sender), in simulated time.

Each test drives the initiator ``a`` of an established pair with hand-built data packets
from ``b``'s stream, as i2pd would send them (no options), and reads ``a``'s ACKs.
"""

from __future__ import annotations

from typing import Any

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import Packet, StreamOptions
from i2p_streaming.streaming.flow import SEND_DELAY_CHOKE
from i2p_streaming.streaming.receiving import HOLD_FRACTION, HOLD_MIN
from tests.support.pair import make_pair

pytestmark = pytest.mark.timeout(30)

CAP = 8  # receive_buffer_packets
PAYLOAD = b"x" * 1000


def _choked_receiver(keys_a: PrivateKeys, keys_b: PrivateKeys) -> tuple[Any, int, int, float]:
    """``a`` (not reading) holds CAP packets, refused seq CAP+1 and CAP+2 (choke sent) and
    then its application read everything (unchoke sent); returns (manager, sid, bsid, now of
    the refusals)."""
    options = StreamOptions(receive_buffer_packets=CAP)
    pair = make_pair(keys_a, keys_b, options=options, auto_consume=False)
    link, a = pair.link, pair.a
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    link.run_for(1.0)
    m, bsid, now = a.manager, pair.b.incoming[0].stream_id, link.now
    for seq in range(1, CAP + 3):
        m.receive_payload(Packet(sid, bsid, seq, 0, (), 9, 0, payload=PAYLOAD).encode(), 0, 0, now)
    acks = [Packet.decode(p.data) for p in m.payloads_to_send(now)]
    assert acks and all(p.delay == SEND_DELAY_CHOKE for p in acks)
    assert acks[-1].ack_through == CAP and m.counters["receive_buffer_full"] == 2
    assert m.consumed(sid, CAP * len(PAYLOAD), now + 0.001)
    [unchoke] = [Packet.decode(p.data) for p in m.payloads_to_send(now + 0.001)]
    assert (unchoke.ack_through, unchoke.delay) == (CAP, 0)
    return m, sid, bsid, now


def _acks_until(m: Any, now: float, until: float) -> list[tuple[float, Packet]]:
    """What ``m`` sends from ``now`` (inputs just given) until ``until``, running its timers."""
    out = [(now, Packet.decode(p.data)) for p in m.payloads_to_send(now)]
    while (due := m.get_timer()) is not None and due <= until:
        m.handle_timer(due)
        out += [(due, Packet.decode(p.data)) for p in m.payloads_to_send(due)]
    return out


@pytest.mark.parametrize("period", [0.02, 0.04, 0.5])
def test_ack_completing_a_choked_peers_resends_is_held(
    keys_a: PrivateKeys, keys_b: PrivateKeys, period: float
) -> None:
    """i2pd 2.56 resends the refused packets each RTO (``period``) and sends new data only
    from an ACK that reaches it after one pacing interval and before its next resend: the
    ACK that acks its last outstanding packet leaves HOLD_FRACTION x period (at least
    HOLD_MIN) after the resend, not at once."""
    m, sid, bsid, t0 = _choked_receiver(keys_a, keys_b)
    t1 = t0 + period  # the resend of CAP+1, CAP+2
    for seq in (CAP + 1, CAP + 2):
        m.receive_payload(Packet(sid, bsid, seq, 0, (), 9, 0, payload=PAYLOAD).encode(), 0, 0, t1)
    assert m.payloads_to_send(t1) == []  # no ACK at once
    held = t1 + max(HOLD_FRACTION * period, HOLD_MIN)
    assert _acks_until(m, t1, held - 1e-6) == []
    [(at, ack)] = _acks_until(m, t1, held + 1e-6)
    assert ack.ack_through == CAP + 2 and ack.sequence_num == 0 and ack.delay in (None, 0)
    # the sender resumes with new data: acked as usual again, no hold
    t2 = held + 0.01
    for seq in (CAP + 3, CAP + 4):
        m.receive_payload(Packet(sid, bsid, seq, 0, (), 9, 0, payload=b"y").encode(), 0, 0, t2)
    [(at, ack)] = _acks_until(m, t2, t2 + 0.01)
    assert ack.ack_through == CAP + 4 and at < t2 + 0.01


def test_new_data_after_an_unchoke_is_not_held(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    """A sender that resumes with new data (Java) along with its resends is acked at once
    (the burst-end ACK), never held."""
    m, sid, bsid, t0 = _choked_receiver(keys_a, keys_b)
    t1 = t0 + 0.5
    for i, seq in enumerate((CAP + 1, CAP + 2, CAP + 3)):
        packet = Packet(sid, bsid, seq, 0, (), 9, 0, payload=PAYLOAD)
        m.receive_payload(packet.encode(), 0, 0, t1 + i * 0.001)
    [(at, ack)] = _acks_until(m, t1, t1 + 0.02)
    assert ack.ack_through == CAP + 3 and at < t1 + 0.01


def test_lost_held_ack_is_held_again_for_the_duplicate(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    """The held ACK was lost: the sender resends its last packet one RTO later; that
    duplicate's ACK is held again (same fraction of the measured period), not sent at once."""
    m, sid, bsid, t0 = _choked_receiver(keys_a, keys_b)
    period = 0.04
    t1 = t0 + period
    for seq in (CAP + 1, CAP + 2):
        m.receive_payload(Packet(sid, bsid, seq, 0, (), 9, 0, payload=PAYLOAD).encode(), 0, 0, t1)
    [(_, ack)] = _acks_until(m, t1, t1 + period)  # (lost on the way)
    assert ack.ack_through == CAP + 2
    t2 = t1 + period
    dup = Packet(sid, bsid, CAP + 2, 0, (), 9, 0, payload=PAYLOAD)
    m.receive_payload(dup.encode(), 0, 0, t2)
    assert m.payloads_to_send(t2) == []
    [(at, again)] = _acks_until(m, t2, t2 + period)
    assert again.ack_through == CAP + 2 and at == pytest.approx(t2 + HOLD_FRACTION * period)
