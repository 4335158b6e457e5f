"""Shared control blocks (RTT/window per peer) and offline-signed destinations both ways."""

from __future__ import annotations

import pytest

from i2p_streaming.data import PrivateKeys, SigType
from i2p_streaming.streaming import DataReceived, Event, PeerClosed, StreamManager, StreamOptions
from i2p_streaming.streaming import tcb as tcb_mod
from i2p_streaming.streaming.rto import RttEstimator
from i2p_streaming.streaming.tcb import TcbCache
from tests.support.link import FakeLink
from tests.support.pair import make_pair


def test_second_connection_is_seeded_by_the_first(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    pair = make_pair(keys_a, keys_b, echo=True)
    link, a = pair.link, pair.a
    s1 = a.manager.connect(keys_b.destination, now=0.0, data=bytes(20_000), close=True)
    assert link.run(lambda: s1 in a.closed)
    first = a.manager.stats(s1)
    assert first.rtt is not None and first.rto < 9.0
    link.run_for(400.0)  # TIME-WAIT over: stored on removal
    assert a.manager.stream_ids == [] and len(a.manager.tcb) == 1
    entry = a.manager.tcb.get(keys_b.destination.hash, link.now)
    assert entry is not None and entry.rtt == pytest.approx(first.rtt)
    s2 = a.manager.connect(keys_b.destination, now=link.now)
    second = a.manager.stats(s2)  # before any packet was acknowledged
    assert second.rtt == pytest.approx(entry.rtt)
    assert second.rto == pytest.approx(max(0.1, entry.rtt + 4 * entry.rttvar))
    assert second.rto < 1.0 and second.window == min(entry.window, 64)
    # the responder seeds its side too
    assert len(pair.b.manager.tcb) == 1
    # without sharing, the 9 s initial RTO
    plain = StreamManager(keys_a, StreamOptions(tcb_share=False), tcb=a.manager.tcb)
    s3 = plain.connect(keys_b.destination, now=link.now)
    assert plain.stats(s3).rto == StreamOptions().initial_rto and plain.stats(s3).rtt is None


def _rtt(srtt: float, rttvar: float) -> RttEstimator:
    """An estimator that measured ``srtt``/``rttvar`` (none at all when ``srtt`` is 0)."""
    rtt = RttEstimator()
    if srtt:
        rtt.seed(srtt, rttvar)
    return rtt


def test_blend_expiry_and_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = TcbCache()
    cache.store(b"p" * 32, _rtt(0.0, 0.0), 10, False, 0.0)  # no own RTT sample: not stored
    cache.store(b"p" * 32, _rtt(1.0, 0.4), 10, True, 0.0)  # only the seeded sample: neither
    assert len(cache) == 0
    cache.store(b"p" * 32, _rtt(1.0, 0.4), 100, False, 0.0)
    e = cache.get(b"p" * 32, 1.0)
    assert e is not None and (e.rtt, e.rttvar, e.window) == (1.0, 0.4, 64)
    cache.store(b"p" * 32, _rtt(2.0, 0.8), 32, False, 10.0)
    assert e.rtt == pytest.approx(1.25) and e.rttvar == pytest.approx(0.5) and e.window == 56
    assert cache.get(b"p" * 32, 10.0 + 601.0) is None and len(cache) == 0  # expired
    monkeypatch.setattr(tcb_mod, "MAX_ENTRIES", 3)
    for i in range(5):
        cache.store(bytes([i]) * 32, _rtt(1.0, 0.1), 5, False, 20.0)
    assert len(cache) == 3 and cache.get(bytes([0]) * 32, 20.0) is None


def test_offline_signed_destinations_open_streams_both_ways(
    keys_a: PrivateKeys, keys_b: PrivateKeys
) -> None:
    off_a = keys_a.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, 4_000_000_000)
    off_b = keys_b.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, 4_000_000_000)
    assert off_a.offline is not None and off_b.offline is not None
    pair = make_pair(off_a, off_b)
    pair.a.manager.listen(0)

    def echo_incoming(lk: FakeLink, m: StreamManager, ev: Event) -> None:
        side = pair.side(m)
        side.on_event(lk, ev)
        inbound = {i.stream_id for i in side.incoming}
        if isinstance(ev, DataReceived) and ev.stream_id in inbound:
            side.write(ev.stream_id, ev.data, lk.now)
        elif isinstance(ev, PeerClosed) and ev.stream_id in inbound:
            side.write(ev.stream_id, b"", lk.now, close=True)

    pair.link.on_event = echo_incoming
    for m in (pair.a.manager, pair.b.manager):
        m.epoch_offset = 1_700_000_000.0
    link, a, b = pair.link, pair.a, pair.b
    link.record = True
    payload = bytes(range(256)) * 20  # several packets, CLOSE checked with the stored key
    s_ab = a.manager.connect(off_b.destination, now=0.0, data=payload, close=True)
    s_ba = b.manager.connect(off_a.destination, now=0.0, data=payload[::-1], close=True)
    assert link.run(lambda: s_ab in a.closed and s_ba in b.closed)
    assert bytes(a.received[s_ab]) == payload  # echoed by b (transient key)
    assert bytes(b.received[s_ba]) == payload[::-1]
    for m in (a.manager, b.manager):
        assert "bad_signature" not in m.counters and m.internal_errors == 0
    from i2p_streaming.streaming import Packet
    from i2p_streaming.streaming.packet import Flags

    signed = [Packet.decode(d.packet.data) for d in link.sent]
    assert any(p.flags & Flags.OFFLINE_SIGNATURE for p in signed)
    assert all(p.offline_signature is not None for p in signed if p.from_destination is not None)
