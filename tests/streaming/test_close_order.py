"""Our CLOSE goes alone, after every data packet is acknowledged (``closing.py``).

i2pd's SAM bridge loses what still waits in its stream's receive queue when it processes a
CLOSE (``test_i2pd_tail.py``), so a CLOSE must never ride on data or follow unacked data.
"""

from __future__ import annotations

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import Packet
from i2p_streaming.streaming.closing import CLOSE_LINGER_MAX, CLOSE_LINGER_MIN
from i2p_streaming.streaming.packet import Flags
from tests.support.link import Impairment
from tests.support.pair import make_pair

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("size", [1, 1812, 64 * 1024, 600 * 1024])
@pytest.mark.parametrize("loss", [0.0, 0.05])
def test_close_waits_for_every_ack_then_goes_alone(
    keys_a: PrivateKeys, keys_b: PrivateKeys, size: int, loss: float
) -> None:
    pair = make_pair(keys_a, keys_b, impairment=Impairment(delay=0.05, loss=loss), seed=3)
    link, a, b = pair.link, pair.a, pair.b
    sid = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: sid in a.established)
    link.record = True
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    a.write(sid, data, link.now, close=True)
    bsid = b.incoming[0].stream_id
    assert link.run(lambda: bsid in b.peer_closed, max_time=600.0)
    assert bytes(b.received[bsid]) == data
    mine = [(d.at, Packet.decode(d.packet.data)) for d in link.sent if d.sender is a.manager]
    closes = [(t, p) for t, p in mine if p.flags & Flags.CLOSE]
    assert closes and all(not p.payload for _, p in closes)  # alone, never on data
    sent_at, close = closes[0]
    last_data = max(p.sequence_num for _, p in mine if p.payload)
    assert close.sequence_num == last_data + 1
    # b's first ACK of everything reached a (0.05 s later) before the CLOSE left, with the linger
    acks = [
        d.at
        for d in link.sent
        if d.sender is b.manager and Packet.decode(d.packet.data).ack_through >= last_data
    ]
    assert acks
    arrived = acks[0] + 0.05
    assert arrived + CLOSE_LINGER_MIN - 1e-9 <= sent_at <= arrived + CLOSE_LINGER_MAX + 1e-9
