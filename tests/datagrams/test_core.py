"""DatagramCore: bindings and port demux, hostile input dropped and counted (forged
signatures, truncated headers, replayed Datagram2), size limits, bounded queues."""

from __future__ import annotations

import pytest
from fuzz.keys import keys_for, offline_keys_for

from i2p_streaming.data import SigType
from i2p_streaming.datagrams import (
    MAX_DATAGRAM_SIZE,
    DatagramCore,
    DatagramKind,
    DatagramReceived,
    DatagramTooLarge,
    ReplayCache,
    encode_datagram2,
    encode_repliable,
    max_payload,
)

pytestmark = pytest.mark.timeout(30)

ALICE = keys_for(label="alice")
BOB = keys_for(label="bob")
EPOCH = 1_800_000_000.0


def _bob(**kwargs: object) -> DatagramCore:
    core = DatagramCore(BOB, epoch_offset=EPOCH, **kwargs)  # type: ignore[arg-type]
    for kind in DatagramKind:
        core.bind(kind, 7)
    return core


def _events(core: DatagramCore) -> list[DatagramReceived]:
    out = []
    while (event := core.next_event()) is not None:
        out.append(event)
    return out


def _carry(sender: DatagramCore, receiver: DatagramCore, now: float = 1.0) -> None:
    for d in sender.datagrams_to_send():
        receiver.receive_payload(d.protocol, d.data, d.src_port, d.dst_port, now)


@pytest.mark.parametrize("kind", list(DatagramKind))
def test_each_kind_arrives_with_its_sender(kind: DatagramKind) -> None:
    alice = DatagramCore(ALICE)
    bob = _bob()
    alice.send(kind, b"ping", BOB.destination, 7, src_port=9)
    (out,) = alice.datagrams_to_send()
    assert out.protocol == kind.protocol and (out.src_port, out.dst_port) == (9, 7)
    assert out.compress == (kind in (DatagramKind.REPLIABLE, DatagramKind.DATAGRAM2))
    bob.receive_payload(out.protocol, out.data, 9, 7, 1.0)
    (event,) = _events(bob)
    assert (event.kind, event.data, event.src_port, event.dst_port) == (kind, b"ping", 9, 7)
    if kind is DatagramKind.RAW:
        assert event.address == (None, 9)
    else:
        assert event.address == (ALICE.destination.b32, 9)
    signed = kind in (DatagramKind.REPLIABLE, DatagramKind.DATAGRAM2)
    assert event.destination == (ALICE.destination if signed else None)
    assert bob.counters["received"] == 1 and alice.counters["sent"] == 1


def test_port_demux_and_the_any_port() -> None:
    bob = DatagramCore(BOB)
    bob.bind(DatagramKind.RAW, 7)
    bob.bind(DatagramKind.RAW, 0)
    bob.bind(DatagramKind.REPLIABLE, 8)
    with pytest.raises(OSError, match="already bound"):
        bob.bind(DatagramKind.RAW, 7)
    bob.receive_payload(18, b"a", 0, 7, 1.0)
    bob.receive_payload(18, b"b", 0, 99, 1.0)
    bob.receive_payload(17, encode_repliable(ALICE, b"c"), 0, 9, 1.0)  # no repliable port 9
    bob.receive_payload(6, b"streaming", 0, 7, 1.0)
    assert [(e.data, e.local_port) for e in _events(bob)] == [(b"a", 7), (b"b", 0)]
    assert bob.counters["no_endpoint"] == 2
    bob.unbind(DatagramKind.RAW, 0)
    bob.receive_payload(18, b"b", 0, 99, 1.0)
    assert bob.counters["no_endpoint"] == 3


def test_forged_signatures_are_dropped_and_counted() -> None:
    bob = _bob()
    good = encode_repliable(ALICE, b"pay me")
    forged = good[:-6] + b"pay us"
    bob.receive_payload(17, forged, 0, 7, 1.0)
    # Alice's Destination with Bob's signature
    mallory = encode_repliable(BOB, b"x")
    impostor = ALICE.destination.to_bytes() + mallory[len(BOB.destination) :]
    bob.receive_payload(17, impostor, 0, 7, 1.0)
    d2 = bytearray(encode_datagram2(ALICE, b"abc", BOB.destination.hash))
    d2[-1] ^= 1
    bob.receive_payload(19, bytes(d2), 0, 7, 1.0)
    assert _events(bob) == []
    assert bob.counters["bad_signature"] == 3 and bob.counters["received"] == 0


def test_truncated_and_garbage_input_is_malformed() -> None:
    bob = _bob()
    rep = encode_repliable(ALICE, b"hello")
    d2 = encode_datagram2(ALICE, b"hello", BOB.destination.hash)
    inputs = [(17, rep[:300]), (17, rep[:420]), (19, d2[:392]), (19, d2[:400]), (20, b"\x00" * 33)]
    inputs += [(17, b""), (19, b"\xff" * 500), (20, bytes(32) + b"\x00\x02")]
    for protocol, data in inputs:
        bob.receive_payload(protocol, data, 0, 7, 1.0)
    assert _events(bob) == []
    assert bob.counters["malformed"] == len(inputs)


def test_a_replayed_datagram2_is_dropped() -> None:
    bob = _bob()
    wire = encode_datagram2(ALICE, b"once", BOB.destination.hash)
    for now in (1.0, 2.0, 3.0):
        bob.receive_payload(19, wire, 0, 7, now)
    assert [e.data for e in _events(bob)] == [b"once"]
    assert bob.counters["replayed"] == 2


def test_a_datagram2_signed_for_another_destination_is_refused() -> None:
    """The spec's replay protection: Alice's datagram to Carol, replayed to Bob, fails."""
    bob = _bob()
    to_carol = encode_datagram2(ALICE, b"for carol", keys_for(label="carol").destination.hash)
    bob.receive_payload(19, to_carol, 0, 7, 1.0)
    assert _events(bob) == [] and bob.counters["bad_signature"] == 1


def test_the_sender_prelude_quirk_is_accepted_and_flagged_or_refused() -> None:
    """i2pd 2.59 signs a Datagram2 over its *own* hash where the spec puts the target's:
    accepted (flagged, counted, still replay-checked) unless ``accept_sender_prelude=False``."""
    quirky = encode_datagram2(ALICE, b"from i2pd", ALICE.destination.hash)
    bob = _bob()
    bob.receive_payload(19, quirky, 0, 7, 1.0)
    bob.receive_payload(19, quirky, 0, 7, 2.0)
    (event,) = _events(bob)
    assert event.sender_prelude and event.data == b"from i2pd"
    assert bob.counters["sender_prelude"] == 1 and bob.counters["replayed"] == 1
    strict = _bob(accept_sender_prelude=False)
    strict.receive_payload(19, quirky, 0, 7, 1.0)
    assert _events(strict) == [] and strict.counters["bad_signature"] == 1


def test_offline_signed_datagram2_and_its_expiry() -> None:
    keys = offline_keys_for()
    wire = encode_datagram2(keys, b"transient", BOB.destination.hash)
    bob = _bob()
    bob.receive_payload(19, wire, 0, 7, 1.0)
    (event,) = _events(bob)
    assert event.destination == keys.destination
    late = DatagramCore(BOB, epoch_offset=3_000_000_000.0)
    late.bind(DatagramKind.DATAGRAM2, 7)
    late.receive_payload(19, wire, 0, 7, 1.0)
    assert _events(late) == [] and late.counters["bad_signature"] == 1
    with pytest.raises(ValueError, match="offline"):
        DatagramCore(keys).send(DatagramKind.REPLIABLE, b"x", BOB.destination, 7)


def test_the_replay_cache_is_bounded_by_count_and_age() -> None:
    cache = ReplayCache(capacity=3, window=10.0)
    assert all(cache.check_and_add(bytes([i]), 0.0) for i in range(4))
    assert len(cache) == 3
    assert cache.check_and_add(b"\x00", 1.0)  # pushed out by capacity: new again
    assert not cache.check_and_add(b"\x03", 1.0)
    assert cache.check_and_add(b"\x03", 10.5)  # expired by age
    with pytest.raises(ValueError, match="at least 1"):
        ReplayCache(capacity=0)


def test_size_limits_raise_a_clear_error() -> None:
    alice = DatagramCore(ALICE)
    for kind in DatagramKind:
        limit = max_payload(kind, ALICE)
        alice.send(kind, bytes(limit), BOB.destination, 7)
        (out,) = alice.datagrams_to_send()
        assert len(out.data) == MAX_DATAGRAM_SIZE
        with pytest.raises(DatagramTooLarge, match=f"over the {limit}-byte limit"):
            alice.send(kind, bytes(limit + 1), BOB.destination, 7)
    with pytest.raises(ValueError, match="no options"):
        alice.send(DatagramKind.RAW, b"", BOB.destination, options={"a": "b"})
    with pytest.raises(ValueError, match="port"):
        alice.send(DatagramKind.RAW, b"", BOB.destination, 70000)


def test_queues_are_bounded() -> None:
    bob = DatagramCore(BOB, max_events=2, max_outgoing=2)
    bob.bind(DatagramKind.RAW, 0)
    for i in range(5):
        bob.receive_payload(18, bytes([i]), 0, 1, 1.0)
        bob.send(DatagramKind.RAW, bytes([i]), ALICE.destination)
    assert [e.data for e in _events(bob)] == [b"\x00", b"\x01"]
    assert bob.counters["queue_full"] == 3
    assert [d.data for d in bob.datagrams_to_send()] == [b"\x03", b"\x04"]
    assert bob.counters["send_queue_full"] == 3


def test_ecdsa_and_dsa_senders_verify() -> None:
    for sig_type in (SigType.DSA_SHA1, SigType.ECDSA_SHA512_P521):
        sender = DatagramCore(keys_for(sig_type))
        bob = _bob()
        sender.send(DatagramKind.REPLIABLE, b"r", BOB.destination, 7)
        sender.send(DatagramKind.DATAGRAM2, b"2", BOB.destination, 7)
        _carry(sender, bob)
        assert [e.data for e in _events(bob)] == [b"r", b"2"]
