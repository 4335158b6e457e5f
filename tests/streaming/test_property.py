"""Property: over a lossy, duplicating, reordering, jittery link every byte arrives exactly once
and in order and both sides end closed in bounded simulated time; on a blackhole the
initiator gets a clear error and what arrived is a prefix of what was sent."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import StreamOptions
from tests.support.link import Impairment
from tests.support.pair import make_pair

# More patience than the defaults: 30 % loss each way makes a SYN round trip fail half the
# time, and the defaults (3 SYN sends within 60 s, 8 resends) are sized for real I2P.
# TIME-WAIT must outlast the peer's last possible retransmission (40 sends, RTO up to 45 s);
# an unacked empty CLOSE is abandoned after max_resends // 2 sends once the peer closed.
# No inactivity timer: with RTOs up to 45 s, 90 s of silence is possible on such a link.
OPTIONS = StreamOptions(
    initial_rto=1.0,
    max_resends=40,
    connect_timeout=600.0,
    time_wait=3000.0,
    inactivity_action=0,
    half_open_timeout=3000.0,  # our SYN reply is resent at RTOs up to 45 s
)

impairments = st.builds(
    Impairment,
    loss=st.floats(0.0, 0.3),
    duplicate=st.floats(0.0, 0.2),
    reorder=st.floats(0.0, 0.3),
    delay=st.floats(0.005, 0.3),
    jitter=st.floats(0.0, 0.2),
)
writes = st.lists(
    st.lists(st.integers(1, 20_000), min_size=0, max_size=8),  # chunk sizes for one stream
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), impairment=impairments, chunks=writes)
def test_lossy_link_delivers_everything_in_order(
    keys_a: PrivateKeys,
    keys_b: PrivateKeys,
    seed: int,
    impairment: Impairment,
    chunks: list[list[int]],
) -> None:
    pair = make_pair(keys_a, keys_b, impairment=impairment, seed=seed, options=OPTIONS, echo=True)
    link, a, b = pair.link, pair.a, pair.b
    sent: dict[int, bytes] = {}
    for i, sizes in enumerate(chunks):
        data = b"".join(bytes([(seed + i + k) % 251]) * n for k, n in enumerate(sizes))
        first = data[: sizes[0] // 2] if sizes else b""
        sid = a.manager.connect(keys_b.destination, now=0.0, data=first)
        a.write(sid, data[len(first) :], 0.0, close=True)
        sent[sid] = data
    done = link.run(lambda: set(sent) <= a.closed and len(b.closed) == len(sent), max_time=5000.0)
    assert done, (a.reset, a.failed, b.reset, link.now)
    for sid, data in sent.items():
        assert bytes(a.received[sid]) == data  # echoed back: both directions intact
    assert sorted(map(bytes, b.received.values())) == sorted(d for d in sent.values() if d)
    assert not a.reset and not b.reset and not a.failed
    link.run_for(OPTIONS.time_wait + 1.0)
    assert a.manager.stream_ids == [] and b.manager.stream_ids == []
    assert a.manager.internal_errors == 0 and b.manager.internal_errors == 0


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), cut=st.floats(0.0, 2.0), size=st.integers(1, 200_000))
def test_blackhole_gives_a_clear_error(
    keys_a: PrivateKeys, keys_b: PrivateKeys, seed: int, cut: float, size: int
) -> None:
    imp = Impairment(delay=0.05, jitter=0.02, blackhole_from=cut)
    pair = make_pair(keys_a, keys_b, impairment=imp, seed=seed, echo=True)
    link, a = pair.link, pair.a
    data = bytes([seed % 256]) * size
    sid = a.manager.connect(keys_b.destination, now=0.0)
    a.write(sid, data, 0.0, close=True)
    assert link.run(lambda: sid in a.closed or sid in a.reset or sid in a.failed, max_time=1000.0)
    got = bytes(a.received[sid])
    assert data.startswith(got)
    if sid in a.closed:
        assert got == data
    elif sid in a.failed:
        assert "timed out" in a.failed[sid].reason
    else:  # gave up resending, or waited 90 s in vain for the peer's CLOSE
        reason = a.reset[sid].reason
        assert "retransmissions" in reason or "no activity for 90 s" in reason
    assert a.manager.internal_errors == 0 and pair.b.manager.internal_errors == 0
