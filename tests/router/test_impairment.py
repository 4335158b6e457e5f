"""The impairment engine in simulated time: each impairment measured over many payloads."""

from __future__ import annotations

import os
import random

import pytest

from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp.payload import PROTO_RAW, unwrap, wrap
from i2p_streaming.router import Burst, Counters, ImpairmentEngine, Impairments, corrupt_payload

A = b"a" * 32
B = b"b" * 32
C = b"c" * 32


def engine(seed: int = 1, **kwargs: object) -> ImpairmentEngine:
    return ImpairmentEngine(Impairments(**kwargs), random.Random(seed))  # type: ignore[arg-type]


def test_perfect_network_delivers_everything_at_once() -> None:
    e = ImpairmentEngine()
    for i in range(100):
        copies = e.decide(A, B, 100, float(i))
        assert len(copies) == 1
        assert copies[0].at == float(i)
        assert copies[0].corrupt is None
    c = e.counters()
    assert (c.delivered, c.dropped, c.bytes) == (100, 0, 10_000)


def test_random_loss_fraction() -> None:
    e = engine(seed=42, loss=0.2)
    n = 10_000
    dropped = sum(1 for i in range(n) if not e.decide(A, B, 10, i * 0.001))
    assert abs(dropped / n - 0.2) <= 0.02
    assert e.counters(A, B).dropped == dropped
    assert e.counters(A, B).delivered == n - dropped


def test_gilbert_elliott_bursts_match_parameters() -> None:
    burst = Burst(p_enter=0.02, p_exit=0.25)
    e = engine(seed=7, burst=burst)
    lost = [not e.decide(A, B, 10, 0.0) for _ in range(100_000)]
    runs: list[int] = []
    run = 0
    for x in lost:
        if x:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    mean_burst = sum(runs) / len(runs)
    assert mean_burst == pytest.approx(1 / burst.p_exit, rel=0.1)
    assert sum(lost) / len(lost) == pytest.approx(burst.mean_loss, rel=0.1)
    # independent loss of the same rate has much shorter runs (mean ~1.08)
    assert mean_burst > 3


def test_burst_with_partial_loss_in_each_state() -> None:
    burst = Burst(p_enter=0.1, p_exit=0.1, loss_good=0.05, loss_bad=0.5)
    e = engine(seed=3, burst=burst)
    n = 50_000
    lost = sum(1 for _ in range(n) if not e.decide(A, B, 10, 0.0))
    assert lost / n == pytest.approx(burst.mean_loss, rel=0.1)
    assert Burst(0.0, 0.0, loss_good=0.25).mean_loss == 0.25


def test_delay_is_exact_and_jitter_bounded() -> None:
    e = engine(delay=0.3)
    assert [d.at for d in e.decide(A, B, 10, 5.0)] == [5.3]
    e = engine(delay=0.3, jitter=0.05)
    # one payload per second: FIFO never holds one back, so each shows its own jitter
    ats = [e.decide(A, B, 10, float(i))[0].at - i for i in range(2000)]
    assert min(ats) >= 0.25
    assert max(ats) <= 0.35
    assert max(ats) - min(ats) > 0.09  # uses the range
    e = engine(delay=0.01, jitter=0.05)
    assert min(e.decide(A, B, 10, float(i))[0].at - i for i in range(500)) == 0.0  # clamped


def test_jitter_alone_keeps_fifo_order() -> None:
    e = engine(seed=3, delay=0.3, jitter=0.05)
    ats = [e.decide(A, B, 10, i * 0.001)[0].at for i in range(1000)]
    assert ats == sorted(ats)
    assert len(set(ats)) > 100  # still jittered, not a constant delay


def test_reordering_changes_order() -> None:
    e = engine(seed=5, reorder=0.1, reorder_delay=0.05)
    sent = []
    for i in range(1000):
        for copy in e.decide(A, B, 10, i * 0.001):
            sent.append((copy.at, i, copy.reordered))
    order = [i for _, i, _ in sorted(sent)]
    assert order != sorted(order)
    held = sum(1 for *_, r in sent if r)
    assert e.counters().reordered == held
    assert abs(held / 1000 - 0.1) < 0.03
    # each held-back payload arrives exactly reorder_delay late
    assert all(at == pytest.approx(i * 0.001 + 0.05) for at, i, r in sent if r)


def test_no_reordering_without_reorder_or_jitter() -> None:
    e = engine(delay=0.2, loss=0.1)
    ats = [c.at for i in range(1000) for c in e.decide(A, B, 10, i * 0.001)]
    assert ats == sorted(ats)


def test_duplication_duplicates() -> None:
    e = engine(seed=9, duplicate=0.25)
    copies = [len(e.decide(A, B, 10, 0.0)) for _ in range(4000)]
    assert set(copies) == {1, 2}
    assert copies.count(2) / 4000 == pytest.approx(0.25, abs=0.03)
    c = e.counters()
    assert c.duplicated == copies.count(2)
    assert c.delivered == sum(copies)
    assert c.bytes == 10 * sum(copies)
    e.default = Impairments(duplicate=1.0, delay=0.1)
    first, second = e.decide(A, B, 10, 1.0)
    assert (first.duplicate, second.duplicate) == (False, True)
    assert first.at == second.at == pytest.approx(1.1)


@pytest.mark.parametrize("compress", [False, True])
def test_corruption_is_caught_by_the_receiver(compress: bool) -> None:
    e = engine(seed=11, corrupt=1.0)
    rng = random.Random(0)
    detected = 0
    for i in range(300):
        data = rng.randbytes(rng.randrange(0, 2000)) if not compress else b"abc" * (i + 5)
        blob = wrap(data, protocol=PROTO_RAW, src_port=1, dst_port=2, compress=compress)
        (copy,) = e.decide(A, B, len(blob), 0.0)
        assert copy.corrupt is not None
        offset, xor = copy.corrupt
        assert 11 <= offset < len(blob)
        assert offset != len(blob) - 9
        assert xor != 0
        damaged = corrupt_payload(blob, offset, xor)
        assert damaged[:10] == blob[:10]  # ports and protocol intact
        try:
            got = unwrap(damaged)
        except DataFormatError:
            detected += 1
        else:
            # only possible when deflated: a changed back-reference into periodic data can
            # decode to the very same bytes, which is then harmless
            assert compress
            assert got.data == data
    assert e.counters().corrupted == 300
    assert detected >= (290 if compress else 300)


def test_corruption_fraction_and_tiny_payloads() -> None:
    e = engine(seed=12, corrupt=0.1)
    hits = sum(1 for _ in range(5000) if e.decide(A, B, 100, 0.0)[0].corrupt is not None)
    assert hits / 5000 == pytest.approx(0.1, abs=0.02)
    e.default = Impairments(corrupt=1.0)
    (copy,) = e.decide(A, B, 4, 0.0)
    assert copy.corrupt is not None
    assert 0 <= copy.corrupt[0] < 4
    offsets = {e.decide(A, B, 19, 0.0)[0].corrupt[0] for _ in range(200)}  # type: ignore[index]
    assert offsets == set(range(11, 19))  # only the trailer
    offsets = {e.decide(A, B, 14, 0.0)[0].corrupt[0] for _ in range(200)}  # type: ignore[index]
    assert offsets == set(range(10, 14))
    assert e.decide(A, B, 0, 0.0)[0].corrupt is None  # nothing to damage
    assert corrupt_payload(b"abc", 5, 1) == b"abc"
    assert corrupt_payload(b"abc", 1, 1) == b"acc"


def test_rate_cap_holds_throughput_within_ten_percent() -> None:
    rate = 100_000.0
    e = engine(rate=rate, queue_bytes=50_000)
    size = 1000
    # offer twice the rate for 10 simulated seconds
    delivered_at = []
    waits = []
    for i in range(2000):
        now = i * size / (2 * rate)
        for copy in e.decide(A, B, size, now):
            delivered_at.append(copy.at)
            waits.append(copy.at - now)
    span = delivered_at[-1] - delivered_at[0]
    throughput = (len(delivered_at) - 1) * size / span
    assert throughput == pytest.approx(rate, rel=0.1)
    c = e.counters()
    assert c.overflow == c.dropped > 0
    assert c.delivered == len(delivered_at)
    # the queue never holds more than queue_bytes: nothing waits longer than queue / rate
    assert max(waits) <= 50_000 / rate + 1e-9
    assert delivered_at == sorted(delivered_at)


def test_rate_cap_queue_bound_and_idle_link() -> None:
    e = engine(rate=1000.0, queue_bytes=3000, delay=0.5)
    ats = [e.decide(A, B, 1000, 0.0) for _ in range(5)]
    assert [len(x) for x in ats] == [1, 1, 1, 0, 0]  # tail drop beyond 3000 bytes
    assert [x[0].at for x in ats[:3]] == pytest.approx([1.5, 2.5, 3.5])
    assert e.counters().overflow == 2
    # an idle link sends at once
    assert e.decide(A, B, 500, 100.0)[0].at == pytest.approx(101.0)


def test_blackhole_drops_everything_until_switched_off() -> None:
    e = engine(blackhole=True)
    assert all(not e.decide(A, B, 10, float(i)) for i in range(100))
    assert e.counters().dropped == 100
    e.default = Impairments()
    assert e.decide(A, B, 10, 200.0)
    assert e.counters().delivered == 1


def test_per_pair_overrides_and_counter_filters() -> None:
    e = ImpairmentEngine(rng=random.Random(1))
    e.set_pair(A, B, Impairments(blackhole=True))
    assert e.for_pair(A, B).blackhole
    assert not e.for_pair(B, A).blackhole
    assert not e.decide(A, B, 10, 0.0)
    assert e.decide(B, A, 20, 0.0)
    assert e.decide(A, C, 30, 0.0)
    assert e.counters(A, B).dropped == 1
    assert e.counters(src=A).delivered == 1
    assert e.counters(dst=A).bytes == 20
    assert e.counters().delivered == 2
    assert sorted(e.pairs()) == sorted([(A, B), (B, A), (A, C)])
    e.set_pair(A, B, None)
    assert e.decide(A, B, 10, 0.0)
    e.undeliverable(A, B, 10, overflow=True)
    c = e.counters(A, B)
    assert (c.delivered, c.dropped, c.overflow, c.bytes) == (0, 2, 1, 0)


def test_same_seed_same_decisions() -> None:
    kwargs = {"loss": 0.1, "jitter": 0.02, "delay": 0.1, "duplicate": 0.05, "corrupt": 0.05}
    runs = []
    for _ in range(2):
        e = engine(seed=1234, **kwargs)
        runs.append([e.decide(A, B, 100, i * 0.01) for i in range(500)])
    assert runs[0] == runs[1]
    other = engine(seed=4321, **kwargs)
    assert [other.decide(A, B, 100, i * 0.01) for i in range(500)] != runs[0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"loss": 1.5},
        {"duplicate": -0.1},
        {"delay": -1.0},
        {"jitter": float("nan")},
        {"rate": 0},
        {"rate": float("inf")},
        {"queue_bytes": 0},
        {"reorder": "x"},
    ],
)
def test_invalid_impairments_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Impairments(**kwargs)  # type: ignore[arg-type]


def test_invalid_burst_and_replace() -> None:
    with pytest.raises(ValueError, match="p_exit"):
        Burst(0.1, 2.0)
    imp = Impairments(loss=0.1)
    assert imp.replace(delay=0.2) == Impairments(loss=0.1, delay=0.2)
    with pytest.raises(ValueError, match="loss"):
        imp.replace(loss=3.0)


def test_counters_add_and_copy() -> None:
    a = Counters(delivered=1, bytes=10)
    b = a.copy()
    b.add(Counters(delivered=2, dropped=1, bytes=5))
    assert a == Counters(delivered=1, bytes=10)
    assert b == Counters(delivered=3, dropped=1, bytes=15)


def test_random_payload_bytes_roundtrip_without_corruption() -> None:
    data = os.urandom(100)
    blob = wrap(data, protocol=PROTO_RAW)
    assert unwrap(blob).data == data
