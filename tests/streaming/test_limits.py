"""Admission control: access lists, throttles, concurrent limit, limit actions, SYN floods."""

from __future__ import annotations

import random
import tracemalloc

import pytest

from i2p_streaming.data import PrivateKeys, b64encode
from i2p_streaming.streaming import Flags, Packet, StreamManager, StreamOptions
from i2p_streaming.streaming import limits as limits_mod
from i2p_streaming.streaming.limits import http_429
from tests.support.pair import make_pair

_PEERS: list[PrivateKeys] = []


def peers(n: int) -> list[PrivateKeys]:
    while len(_PEERS) < n:
        _PEERS.append(PrivateKeys.generate())
    return _PEERS[:n]


def syn_from(keys: PrivateKeys, target: PrivateKeys, rid: int = 77) -> bytes:
    m = StreamManager(keys, rng=random.Random(rid))
    m.connect(target.destination, port=80, now=0.0)
    [out] = m.payloads_to_send(0.0)
    return out.data


def offer(m: StreamManager, syn: bytes, now: float = 0.0, dst: int = 80) -> list[Packet]:
    """Deliver one SYN; return the packets the manager answers with."""
    m.receive_payload(syn, 1234, dst, now)
    while m.next_event() is not None:
        pass
    return [Packet.decode(o.data) for o in m.payloads_to_send(now)]


def server(keys: PrivateKeys, **opts: object) -> StreamManager:
    m = StreamManager(keys, StreamOptions(**opts), rng=random.Random(5))  # type: ignore[arg-type]
    m.listen(0, backlog=100_000)
    return m


def is_syn_reply(out: list[Packet]) -> bool:
    return (
        len(out) == 1
        and bool(out[0].flags & Flags.SYNCHRONIZE)
        and not out[0].flags & (Flags.CLOSE | Flags.RESET)
    )


def test_access_list_allow_and_deny(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    other = peers(1)[0]
    listed = b64encode(keys_a.destination.hash)
    allow = StreamOptions.from_properties(
        {"i2cp.enableAccessList": "true", "i2cp.accessList": f"{listed}, {other.destination.b32}"}
    )
    assert allow.access_list == {keys_a.destination.hash, other.destination.hash}
    m = StreamManager(keys_b, allow)
    m.listen(0)
    assert is_syn_reply(offer(m, syn_from(keys_a, keys_b)))
    stranger = peers(2)[1]
    assert offer(m, syn_from(stranger, keys_b)) == []  # dropped, whatever the limit action
    assert m.counters["refused_access_list"] == 1 and len(m.stream_ids) == 1
    deny = StreamOptions.from_properties(
        {
            "i2cp.enableBlackList": "true",
            "i2cp.accessList": listed,
            "i2p.streaming.limitAction": "http",
        }
    )
    m2 = StreamManager(keys_b, deny)
    m2.listen(0)
    assert offer(m2, syn_from(keys_a, keys_b)) == []
    assert is_syn_reply(offer(m2, syn_from(stranger, keys_b)))
    assert m2.counters["refused_black_list"] == 1
    # pings follow the access list too
    m2.receive_payload(ping_from(keys_a, keys_b), 0, 0, 0.0)
    assert m2.payloads_to_send(0.0) == [] and m2.counters["ping_refused_black_list"] == 1
    m2.receive_payload(ping_from(stranger, keys_b), 0, 0, 0.0)
    assert len(m2.payloads_to_send(0.0)) == 1
    with pytest.raises(ValueError, match="not a destination hash"):
        StreamOptions.from_properties({"i2cp.accessList": "abc"})


def ping_from(keys: PrivateKeys, target: PrivateKeys) -> bytes:
    m = StreamManager(keys)
    m.ping(target.destination, 0.0)
    return m.payloads_to_send(0.0)[0].data


def test_per_peer_minute_limit_reset_then_silence(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    m = server(keys_b, max_conns_per_minute=2)
    answers = [offer(m, syn_from(keys_a, keys_b, rid), now=1.0) for rid in range(8)]
    assert all(is_syn_reply(a) for a in answers[:2])
    for out in answers[2:5]:  # over the limit by 1..3: a signed RESET with FROM
        [rst] = out
        assert rst.flags == Flags.RESET | Flags.SIGNATURE_INCLUDED | Flags.FROM_INCLUDED
        assert rst.from_destination == keys_b.destination
        assert rst.sequence_num == 0 and rst.ack_through == 0 and rst.receive_stream_id
    assert answers[5:] == [[], [], []]  # more than 3 over: silence
    assert m.counters["refused_throttle"] == 6 and m.counters["refused_silently"] == 3
    assert len(m.stream_ids) == 2
    # a new minute, a new count; another peer was never limited
    assert is_syn_reply(offer(m, syn_from(keys_a, keys_b, 100), now=61.5))
    assert is_syn_reply(offer(m, syn_from(peers(1)[0], keys_b, 101), now=1.0))


def test_total_hour_limit_and_http_action(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    m = server(keys_b, max_total_conns_per_hour=3, limit_action="http")
    senders = peers(5)
    answers = [offer(m, syn_from(k, keys_b, i), now=10.0) for i, k in enumerate(senders)]
    assert all(is_syn_reply(a) for a in answers[:3])
    for out in answers[3:]:
        [reply] = out
        assert (
            reply.flags
            == Flags.SYNCHRONIZE | Flags.CLOSE | Flags.SIGNATURE_INCLUDED | Flags.FROM_INCLUDED
        )
        assert reply.payload.startswith(b"HTTP/1.1 429 ")
        assert b"\r\nRetry-After: 3600\r\n" in reply.payload
        assert reply.payload == http_429(3600)
    assert b"Retry-After" not in http_429(0)


@pytest.mark.parametrize(
    ("action", "expected"),
    [("drop", None), ("reset", "reset"), ("Go away\\r\\nnow", b"Go away\r\nnow")],
)
def test_limit_actions_on_day_limit(
    keys_a: PrivateKeys, keys_b: PrivateKeys, action: str, expected: object
) -> None:
    m = server(keys_b, max_conns_per_day=1, limit_action=action)
    assert is_syn_reply(offer(m, syn_from(keys_a, keys_b, 1)))
    syn = syn_from(keys_a, keys_b, 2)
    out = offer(m, syn)
    if expected is None:
        assert out == []
    elif expected == "reset":
        assert [p.flags for p in out] == [
            Flags.RESET | Flags.SIGNATURE_INCLUDED | Flags.FROM_INCLUDED
        ]
    else:
        [reply] = out
        assert (
            reply.flags
            == Flags.SYNCHRONIZE | Flags.CLOSE | Flags.SIGNATURE_INCLUDED | Flags.FROM_INCLUDED
            and reply.payload == expected
        )
        assert reply.send_stream_id == Packet.decode(syn).receive_stream_id
    # local port 443 always gets a RESET instead of a text
    if expected not in (None, "reset"):
        assert [p.flags for p in offer(m, syn_from(keys_a, keys_b, 3), dst=443)] == [
            Flags.RESET | Flags.SIGNATURE_INCLUDED | Flags.FROM_INCLUDED
        ]


def test_concurrent_limit_ignores_time_wait(keys_a: PrivateKeys, keys_b: PrivateKeys) -> None:
    opts = StreamOptions(max_concurrent_streams=1)
    pair = make_pair(keys_a, keys_b, options_b=opts)
    link, a, b = pair.link, pair.a, pair.b
    s1 = a.manager.connect(keys_b.destination, now=0.0)
    assert link.run(lambda: s1 in a.established)
    s2 = a.manager.connect(keys_b.destination, now=link.now)
    assert link.run(lambda: s2 in a.failed)
    assert a.failed[s2].refused and b.manager.counters["refused_limit"] == 1
    a.manager.close(s1, link.now)
    assert link.run(lambda: len(b.peer_closed) == 1)
    b.manager.close(b.incoming[0].stream_id, link.now)
    assert link.run(lambda: s1 in a.closed and len(b.closed) == 1)
    assert len(b.manager.stream_ids) == 1  # in TIME-WAIT, not counted
    s3 = a.manager.connect(keys_b.destination, now=link.now)
    assert link.run(lambda: s3 in a.established)


def test_syn_flood_leaves_memory_flat(keys_b: PrivateKeys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits_mod, "MAX_TRACKED_PEERS", 20)
    senders = peers(100)
    syns = [syn_from(k, keys_b, i) for i, k in enumerate(senders)]
    m = server(keys_b, max_conns_per_minute=1, max_total_conns_per_minute=1)
    # burn the only allowed connection, then flood: 10,000 rejected SYNs from 100 peers
    assert is_syn_reply(offer(m, syn_from(peers(101)[100], keys_b, 999)))

    def flood(count: int, start: int) -> None:
        for i in range(start, start + count):
            m.receive_payload(syns[i % len(syns)], 1, 80, 1.0)
            if i % 64 == 0:
                m.payloads_to_send(1.0)
        m.payloads_to_send(1.0)

    flood(1000, 0)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    flood(9000, 1000)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert growth < 64 * 1024, growth
    assert m.counters["refused_throttle"] == 10_000
    assert len(m.stream_ids) == 1 and m.next_event() is None
    assert m.admission.tracked_peers() <= 20
    assert len(m._pending) == 0 and len(m._ctx.out) == 0 and len(m._ctx.timers) <= 4
    assert len(m._closed) == 0 and len(m._recent_syn) == 0


def test_options_limits_parse() -> None:
    opts = StreamOptions.from_properties(
        {
            "i2p.streaming.maxConnsPerMinute": "5",
            "i2p.streaming.maxTotalConnsPerDay": "-1",
            "i2p.streaming.limitAction": "",
        }
    )
    assert opts.max_conns_per_minute == 5 and opts.max_total_conns_per_day == 0
    assert opts.limit_action == "reset"
    with pytest.raises(ValueError, match=r"did you mean 'i2p\.streaming\.maxConnsPerHour'"):
        StreamOptions.from_properties({"i2p.streaming.maxConnPerHour": "1"})
    with pytest.raises(ValueError, match="limits"):
        StreamOptions(max_conns_per_hour=-2)
    assert Flags.PROFILE_INTERACTIVE.value == 0x100
