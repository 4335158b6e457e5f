"""The router side of I2CP driven by hand: refusals, statuses, lookups and bad input."""

from __future__ import annotations

import dataclasses
import struct
import time
from collections.abc import AsyncIterator

import pytest

from i2p_streaming.aio import I2CPClient
from i2p_streaming.data import (
    EncryptionKey,
    EncType,
    LeaseSet2,
    PrivateKeys,
    SigType,
    b64encode,
    generate_x25519,
)
from i2p_streaming.i2cp import PROTO_RAW
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.payload import wrap
from tests.support.embedded import RouterTarget, embedded_router
from tests.support.raw import RawClient


@pytest.fixture
async def target() -> AsyncIterator[RouterTarget]:
    async with embedded_router(seed=2, leases_per_set=2) as t:
        yield t


async def still_serving(target: RouterTarget) -> None:
    """Two fresh clients can still exchange a payload."""
    a = await I2CPClient.connect(*target.i2cp_address, timeout=5)
    b = await I2CPClient.connect(*target.i2cp_address, timeout=5)
    async with a, b:
        assert (await a.send(b.destination, b"alive", protocol=PROTO_RAW)).delivered
        assert (await b.receive(timeout=5)).data == b"alive"


async def raw(target: RouterTarget, keys: PrivateKeys | None = None) -> RawClient:
    return await RawClient.open(target.i2cp_address, keys)


# -- session creation -------------------------------------------------------------------------


async def test_bad_session_config_signature_is_invalid(target: RouterTarget) -> None:
    c = await raw(target)
    await c.hello()
    cfg = c.config()
    bad = dataclasses.replace(cfg, signature=bytes(len(cfg.signature)))
    status = await c.create(bad)
    assert status.status == m.SessionStatus.INVALID
    # the connection stays usable: a good config now succeeds
    assert (await c.create()).status == m.SessionStatus.CREATED
    await c.close()


async def test_stale_date_and_bad_options_are_invalid(target: RouterTarget) -> None:
    c = await raw(target)
    await c.hello()
    old = c.config(date_ms=int(time.time() * 1000) - 10 * 60 * 1000)
    assert (await c.create(old)).status == m.SessionStatus.INVALID
    bad_enc = c.config({"i2cp.leaseSetEncType": "4,9"})
    assert (await c.create(bad_enc)).status == m.SessionStatus.INVALID
    bad_type = c.config({"i2cp.leaseSetType": "9"})
    assert (await c.create(bad_type)).status == m.SessionStatus.INVALID
    await c.close()


async def test_non_elgamal_certificate_is_invalid(target: RouterTarget) -> None:
    from i2p_streaming.data import Destination, generate_signing_key, sign

    priv, pub = generate_signing_key(SigType.EdDSA_SHA512_Ed25519)
    dest = Destination.build(
        generate_x25519()[1], pub, SigType.EdDSA_SHA512_Ed25519, EncType.ECIES_X25519
    )
    c = await raw(target)
    await c.hello()
    unsigned = m.SessionConfig(dest, {}, int(time.time() * 1000), b"")
    cfg = dataclasses.replace(
        unsigned, signature=sign(SigType.EdDSA_SHA512_Ed25519, priv, unsigned.signed_bytes())
    )
    assert (await c.create(cfg)).status == m.SessionStatus.INVALID
    await c.close()


def offline_options(keys: PrivateKeys) -> dict[str, str]:
    off = keys.offline
    assert off is not None
    return {
        "i2cp.leaseSetOfflineExpiration": str(off.expires),
        "i2cp.leaseSetTransientPublicKey": (
            f"{int(off.transient_sig_type)}:{b64encode(off.transient_public_key)}"
        ),
        "i2cp.leaseSetOfflineSignature": b64encode(off.signature),
    }


async def test_offline_signed_session_and_lease_set(target: RouterTarget) -> None:
    keys = PrivateKeys.generate().with_offline_signature(
        SigType.EdDSA_SHA512_Ed25519, int(time.time()) + 3600
    )
    c = await raw(target, keys)
    await c.ready(offline_options(keys))
    await c.close()


async def test_offline_signature_problems_are_invalid(target: RouterTarget) -> None:
    keys = PrivateKeys.generate().with_offline_signature(
        SigType.EdDSA_SHA512_Ed25519, int(time.time()) + 3600
    )
    c = await raw(target, keys)
    await c.hello()
    opts = offline_options(keys)
    missing = {k: v for k, v in opts.items() if "Expiration" not in k}
    assert (await c.create(c.config(missing))).status == m.SessionStatus.INVALID
    forged = {**opts, "i2cp.leaseSetOfflineSignature": b64encode(bytes(64))}
    assert (await c.create(c.config(forged))).status == m.SessionStatus.INVALID
    expired = {**opts, "i2cp.leaseSetOfflineExpiration": "1000"}
    assert (await c.create(c.config(expired))).status == m.SessionStatus.INVALID
    await c.close()


async def test_second_session_on_a_connection_refused(target: RouterTarget) -> None:
    c = await raw(target)
    await c.ready()
    assert c.session_id is not None
    c.send(m.CreateSession(c.config()))
    status = await c.expect(m.SessionStatus)
    assert status == m.SessionStatus(c.session_id, m.SessionStatus.REFUSED)
    await c.close()


async def test_works_without_get_date(target: RouterTarget) -> None:
    c = await raw(target)
    c.write(b"\x2a")
    assert (await c.create()).status == m.SessionStatus.CREATED
    c.send(m.GetDate(""))  # very old client: no version in the answer
    date = await c.expect(m.SetDate)
    assert date == m.SetDate(date.date_ms, None)  # type: ignore[attr-defined]
    await c.close()


# -- lease sets ----------------------------------------------------------------------------------


async def test_lease_request_has_fresh_leases_and_is_refreshed() -> None:
    async with embedded_router(lease_lifetime=0.2, leases_per_set=1) as t:
        c = await RawClient.open(t.i2cp_address)
        await c.ready()
        (lease,) = c.leases
        assert abs(lease.end_ms - time.time() * 1000) < 2000
        again = await c.expect(m.RequestVariableLeaseSet)
        assert isinstance(again, m.RequestVariableLeaseSet)
        assert again.leases != c.leases
        await c.close()


async def test_leases_last_ten_minutes(target: RouterTarget) -> None:
    c = await raw(target)
    await c.hello()
    await c.create()
    assert len(c.leases) == 2
    for lease in c.leases:
        assert abs(lease.end_ms - (time.time() + 600) * 1000) < 5000
        assert len(lease.gateway) == 32
    await c.close()


async def created(target: RouterTarget, keys: PrivateKeys | None = None) -> RawClient:
    c = await raw(target, keys)
    await c.hello()
    await c.create()
    return c


async def test_wrong_private_key_disconnects(target: RouterTarget) -> None:
    c = await created(target)
    c.publish(private=generate_x25519()[0])
    assert "does not derive" in await c.disconnected()
    await still_serving(target)


async def test_bad_lease_set_signature_disconnects(target: RouterTarget) -> None:
    c = await created(target)
    ls = c.lease_set()
    c.publish(dataclasses.replace(ls, signature=bytes(len(ls.signature))))
    assert "signature" in await c.disconnected()


async def test_lease_set_for_another_destination_disconnects(target: RouterTarget) -> None:
    c = await created(target)
    c.publish(c.lease_set(keys=PrivateKeys.generate()))
    assert "another destination" in await c.disconnected()


async def test_stale_lease_set_disconnects(target: RouterTarget) -> None:
    c = await created(target)
    c.publish(c.lease_set(published=int(time.time()) - 3600))
    assert "published" in await c.disconnected()


async def test_lease_set_too_far_ahead_disconnects(target: RouterTarget) -> None:
    c = await created(target)
    now = int(time.time())
    ls = LeaseSet2.build(
        c.keys,
        encryption_keys=[EncryptionKey(int(EncType.ECIES_X25519), c.x_pub)],
        leases=[],
        published=now,
        expires=now + 3600,
    )
    c.publish(ls)
    assert "ahead" in await c.disconnected()


async def test_lease_set_key_mismatches_disconnect(target: RouterTarget) -> None:
    c = await created(target)
    assert c.session_id is not None
    ls = c.lease_set()
    c.send(m.CreateLeaseSet2(c.session_id, ls, ()))
    assert "0 private keys for 1" in await c.disconnected()
    c = await created(target)
    assert c.session_id is not None
    c.send(m.CreateLeaseSet2(c.session_id, c.lease_set(), ((0, bytes(256)),)))
    assert "type 0" in await c.disconnected()
    c = await created(target)
    assert c.session_id is not None
    c.send(m.CreateLeaseSet2(c.session_id, c.lease_set(), ((4, bytes(31)),)))
    assert "unsupported encryption type" in await c.disconnected()


async def test_elgamal_lease_set_key_accepted(target: RouterTarget) -> None:
    from i2p_streaming.router.checks import derive_public_key

    c = await created(target)
    assert c.session_id is not None
    el_priv = bytes(range(1, 33)) * 8
    el_pub = derive_public_key(0, el_priv)
    assert el_pub is not None
    ls = LeaseSet2.build(
        c.keys,
        encryption_keys=[EncryptionKey(4, c.x_pub), EncryptionKey(0, el_pub)],
        leases=c.leases,
        published=int(time.time()),
    )
    c.send(m.CreateLeaseSet2(c.session_id, ls, ((4, c.x_priv), (0, el_priv))))
    c.send(m.DestLookup(c.destination.hash))
    reply = await c.expect(m.DestReply)
    assert reply == m.DestReply(c.destination, None)
    await c.close()


async def test_lease_set_for_unknown_session_disconnects(target: RouterTarget) -> None:
    c = await created(target)
    assert c.session_id is not None
    c.send(m.CreateLeaseSet2((c.session_id + 1) % 0xFFFF, c.lease_set(), ((4, c.x_priv),)))
    assert "unknown session" in await c.disconnected()


# -- sending -------------------------------------------------------------------------------------


async def test_status_codes(target: RouterTarget) -> None:
    a = await created(target)
    b = await raw(target)
    await b.ready()
    assert a.session_id is not None
    blob = wrap(b"data", protocol=PROTO_RAW)
    # 16: our lease set is not there yet
    a.send(m.SendMessage(a.session_id, b.destination, blob, 5))
    assert (await a.expect(m.MessageStatus)).status == 16  # type: ignore[attr-defined]
    a.publish()
    # 10: wrong session id
    a.send(m.SendMessage((a.session_id + 1) % 0xFFFF, b.destination, blob, 6))
    assert (await a.expect(m.MessageStatus)).status == 10  # type: ignore[attr-defined]
    # 14: already expired
    a.send(m.SendMessageExpires(a.session_id, b.destination, blob, 7, 0, 1000))
    assert (await a.expect(m.MessageStatus)).status == 14  # type: ignore[attr-defined]
    # 4 with the nonce and size echoed; nonce 0 gets no status at all
    a.send(m.SendMessage(a.session_id, b.destination, blob, 0))
    future = int(time.time() * 1000) + 60_000
    a.send(m.SendMessageExpires(a.session_id, b.destination, blob, 8, 0x100, future))
    status = await a.expect(m.MessageStatus)
    assert isinstance(status, m.MessageStatus)
    assert (status.status, status.nonce, status.size) == (4, 8, len(blob))
    for _ in range(2):
        got = await b.expect(m.MessagePayload)
        assert isinstance(got, m.MessagePayload)
        assert (got.session_id, got.payload) == (b.session_id, blob)
    await a.close()
    await b.close()


async def test_best_effort_reliability_sends_accepted_first(target: RouterTarget) -> None:
    a = await raw(target)
    await a.ready({"i2cp.messageReliability": "BestEffort", "i2cp.fastReceive": "true"})
    assert a.session_id is not None
    a.send(m.SendMessage(a.session_id, a.destination, wrap(b"me", protocol=PROTO_RAW), 9))
    first = await a.expect(m.MessageStatus)
    second = await a.expect(m.MessageStatus)
    assert (first.status, second.status) == (1, 4)  # type: ignore[attr-defined]
    assert first.message_id == second.message_id  # type: ignore[attr-defined]
    assert isinstance(await a.expect(m.MessagePayload), m.MessagePayload)  # loopback
    await a.close()


# -- lookups, limits, reconfigure, destroy -------------------------------------------------------


async def test_lookups_by_hand(target: RouterTarget) -> None:
    a = await raw(target)
    await a.ready()
    b = await raw(target)
    await b.ready()
    target.embedded.register_name("b.i2p", b.destination)
    sid = a.session_id
    assert sid is not None
    unknown = PrivateKeys.generate().destination
    a.send(m.HostLookup(m.NO_SESSION, 1, 10_000, 0, b.destination.hash))
    assert await a.read() == m.HostReply(m.NO_SESSION, 1, 0, b.destination)
    a.send(m.HostLookup(sid, 2, 10_000, 1, b.destination.b32))
    assert await a.read() == m.HostReply(sid, 2, 0, b.destination)
    a.send(m.HostLookup(sid, 3, 10_000, 3, "B.I2P"))
    assert await a.read() == m.HostReply(sid, 3, 0, b.destination, {})
    a.send(m.HostLookup(sid, 4, 10_000, 4, b.destination))
    assert await a.read() == m.HostReply(sid, 4, 0, b.destination, {})
    a.send(m.HostLookup(sid, 5, 10_000, 2, unknown.hash))
    assert await a.read() == m.HostReply(sid, 5, 1)
    a.write(struct.pack(">IB", 11, 38) + struct.pack(">HIIB", sid, 7, 0, 9))
    assert await a.read() == m.HostReply(sid, 7, 7)
    a.send(m.DestLookup(unknown.hash))
    assert await a.read() == m.DestReply(None, unknown.hash)
    await a.close()
    await b.close()


async def test_bandwidth_limits(target: RouterTarget) -> None:
    from i2p_streaming.router import Impairments

    a = await raw(target)
    await a.ready()
    a.send(m.GetBandwidthLimits())
    limits = await a.expect(m.BandwidthLimits)
    assert len(limits.limits) == 16  # type: ignore[attr-defined]
    target.embedded.impairments = Impairments(rate=100 * 1024)
    a.send(m.GetBandwidthLimits())
    limits = await a.expect(m.BandwidthLimits)
    assert limits.limits[:2] == (100, 100)  # type: ignore[attr-defined]
    await a.close()


async def test_reconfigure_by_hand(target: RouterTarget) -> None:
    a = await raw(target)
    await a.ready()
    sid = a.session_id
    assert sid is not None
    a.send(m.ReconfigureSession(sid, a.config({"inbound.quantity": "3"})))
    assert await a.read() == m.SessionStatus(sid, m.SessionStatus.UPDATED)
    other = RawClient(a.reader, a.writer, PrivateKeys.generate())
    a.send(m.ReconfigureSession(sid, other.config()))
    assert await a.read() == m.SessionStatus(sid, m.SessionStatus.INVALID)
    bad = dataclasses.replace(a.config(), signature=bytes(64))
    a.send(m.ReconfigureSession(sid, bad))
    assert await a.read() == m.SessionStatus(sid, m.SessionStatus.INVALID)
    a.send(m.ReconfigureSession((sid + 1) % 0xFFFF, a.config()))
    assert await a.read() == m.SessionStatus((sid + 1) % 0xFFFF, m.SessionStatus.INVALID)
    a.send(m.DestroySession((sid + 1) % 0xFFFF))
    assert await a.read() == m.SessionStatus((sid + 1) % 0xFFFF, m.SessionStatus.INVALID)
    a.send(m.DestroySession(sid))
    assert await a.read() == m.SessionStatus(sid, m.SessionStatus.DESTROYED)
    await a.eof()


async def test_client_disconnect_message_closes(target: RouterTarget) -> None:
    a = await raw(target)
    await a.ready()
    a.send(m.Disconnect("bye"))
    await a.eof()
    await target.embedded.wait_until(lambda r: r.stats().connections == 0)
    assert target.embedded.stats().protocol_errors == 0


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", "protocol byte 0x2a, got 0x47"),
        (b"\x2a" + struct.pack(">IB", 70_000, 1), "70000-byte body"),
        (b"\x2a" + struct.pack(">IB", 3, 99) + b"abc", "unsupported message type 99"),
        (b"\x2a" + struct.pack(">IB", 3, 32) + b"\x09ab", "malformed message of type 32"),
        (b"\x2a" + m.encode_message(m.SessionStatus(1, 1)), "unexpected SessionStatus"),
        (b"\x2a" + m.encode_message(m.MessagePayload(1, 1, b"")), "unexpected MessagePayload"),
        (
            b"\x2a" + m.encode_message(m.CreateLeaseSet(1, bytes(20), bytes(256), b"")),
            "CreateLeaseSet for unknown session 1",
        ),
        (b"\x2a" + struct.pack(">IB", 0, 1), "malformed message of type 1"),
    ],
)
async def test_garbage_gets_disconnect_with_reason(
    target: RouterTarget, data: bytes, reason: str
) -> None:
    c = await raw(target)
    c.write(data)
    assert reason in await c.disconnected()
    await still_serving(target)
    assert target.embedded.stats().protocol_errors == 1


async def test_truncated_frame_gets_disconnect(target: RouterTarget) -> None:
    c = await raw(target)
    await c.hello()
    c.write(struct.pack(">IB", 100, 1) + b"only a part")
    c.writer.write_eof()
    reason = await c.disconnected()
    assert "truncated frame" in reason
    assert "16 bytes pending" in reason
    await still_serving(target)


async def test_clean_eof_closes_quietly(target: RouterTarget) -> None:
    c = await raw(target)
    await c.hello()
    c.writer.write_eof()
    await c.eof()
    await target.embedded.wait_until(lambda r: r.stats().connections == 0)
    assert target.embedded.stats().protocol_errors == 0


async def test_authorization_required_and_failed() -> None:
    async with embedded_router(username="alice", password="pw") as t:
        c = await RawClient.open(t.i2cp_address)
        c.write(b"\x2a")
        c.send(m.CreateSession(c.config()))
        assert await c.disconnected() == "Authorization required"
        c = await RawClient.open(t.i2cp_address)
        await c.hello({"i2cp.username": "alice", "i2cp.password": "pw"})
        assert (await c.create()).status == m.SessionStatus.CREATED
        await c.close()
        c = await RawClient.open(t.i2cp_address)
        c.write(b"\x2a")
        c.send(m.GetDate("0.9.66"))
        assert await c.disconnected() == "Authorization failed"


async def test_flooding_sender_and_stalled_receiver() -> None:
    async with embedded_router(max_queue_bytes=64 * 1024) as t:
        router = t.embedded
        flooder = await RawClient.open(t.i2cp_address)
        stalled = await RawClient.open(t.i2cp_address, rcvbuf=4096)
        await flooder.ready()
        await stalled.ready()
        assert flooder.session_id is not None
        blob = wrap(bytes(8000), protocol=PROTO_RAW)
        frame = m.encode_message(m.SendMessage(flooder.session_id, stalled.destination, blob, 1))
        for _ in range(2000):  # 16 MB the stalled receiver never reads
            flooder.write(frame)
        await router.wait_until(lambda r: r.counters().overflow > 0, timeout=30)
        await still_serving(t)
        await flooder.close()
        await stalled.close()


async def test_hybrid_lease_set_keys_accepted(target: RouterTarget) -> None:
    """An LS2 with an ML-KEM-768 hybrid key (the 32-byte X25519 key under type 6) beside type
    4, declared as i2cp.leaseSetEncType=6,4: accepted and published."""
    c = await raw(target)
    await c.hello()
    assert (await c.create(c.config({"i2cp.leaseSetEncType": "6,4"}))).status == (
        m.SessionStatus.CREATED
    )
    assert c.session_id is not None
    pq_priv, pq_pub = generate_x25519()
    ls = LeaseSet2.build(
        c.keys,
        encryption_keys=[EncryptionKey(6, pq_pub), EncryptionKey(4, c.x_pub)],
        leases=c.leases,
        published=int(time.time()),
    )
    c.send(m.CreateLeaseSet2(c.session_id, ls, ((6, pq_priv), (4, c.x_priv))))
    c.send(m.DestLookup(c.destination.hash))
    assert await c.expect(m.DestReply) == m.DestReply(c.destination, None)
    await c.close()


@pytest.mark.parametrize(
    ("types", "why"),
    [((6, 5, 4), "at most one ML-KEM"), ((6, 0), "at most one ML-KEM"), ((4, 4), "repeat")],
)
async def test_bad_hybrid_combinations_disconnect(
    target: RouterTarget, types: tuple[int, ...], why: str
) -> None:
    """Java's LeaseSetKeys rule: distinct types, one ML-KEM type at most, none beside ElGamal."""
    from i2p_streaming.router.checks import derive_public_key

    c = await created(target)
    assert c.session_id is not None
    keys: list[tuple[int, bytes, bytes]] = []
    for t in types:
        if t == 0:
            priv = bytes(range(1, 33)) * 8
            pub = derive_public_key(0, priv)
            assert pub is not None
        else:
            priv, pub = generate_x25519()
        keys.append((t, priv, pub))
    ls = LeaseSet2.build(
        c.keys,
        encryption_keys=[EncryptionKey(t, pub) for t, _, pub in keys],
        leases=c.leases,
        published=int(time.time()),
    )
    c.send(m.CreateLeaseSet2(c.session_id, ls, tuple((t, priv) for t, priv, _ in keys)))
    assert why in await c.disconnected()


async def test_two_hybrid_enc_types_in_the_options_are_invalid(target: RouterTarget) -> None:
    c = await raw(target)
    await c.hello()
    status = await c.create(c.config({"i2cp.leaseSetEncType": "7,6,4"}))
    assert status.status == m.SessionStatus.INVALID
    await c.close()
