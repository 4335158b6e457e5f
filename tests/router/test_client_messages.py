"""Every client-sendable I2CP message on the embedded router, the ones Java's clients use by
default or by option: legacy CreateLeaseSet (LeaseSet v1), CreateLeaseSet2 types 1/5/7,
ReceiveMessageBegin/End without fast receive, BlindingInfo and b33 lookups, and the messages
Java's router ignores (SetDate, ReportAbuse). Codecs round-trip; the router's answers match
docs/embedded-router.md."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator

import pytest

from i2p_streaming.data import OfflineSignature, PrivateKeys, SigType, b64encode, generate_x25519
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp import PROTO_RAW
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.messages.blinding import AUTH_DH, AUTH_PSK
from i2p_streaming.i2cp.payload import wrap
from i2p_streaming.router.blinding import BlindingTable, blinded_name, parse_blinded_name
from i2p_streaming.router.checks import derive_public_key
from tests.support.embedded import RouterTarget, embedded_router
from tests.support.raw import RawClient

pytestmark = pytest.mark.timeout(30)

ELGAMAL_PRIVATE = bytes(range(7, 39)) * 8


@pytest.fixture
async def target() -> AsyncIterator[RouterTarget]:
    async with embedded_router(seed=5, leases_per_set=2) as t:
        yield t


async def created(target: RouterTarget, options: dict[str, str] | None = None) -> RawClient:
    c = await RawClient.open(target.i2cp_address)
    await c.hello()
    base = {"i2cp.fastReceive": "true", "i2cp.messageReliability": "none"}
    assert (await c.create(c.config({**base, **(options or {})}))).status == 1
    return c


async def reachable(c: RawClient) -> bool:
    """A DestLookup of ourselves: True when our lease set was accepted (and the connection
    still answers, so everything sent before it was handled)."""
    c.send(m.DestLookup(c.destination.hash))
    reply = await c.expect(m.DestReply)
    assert isinstance(reply, m.DestReply)
    return reply.destination == c.destination


def lease_set1(c: RawClient, *, private: bytes = ELGAMAL_PRIVATE) -> m.LeaseSet1:
    public = derive_public_key(0, private)
    assert public is not None
    spk = bytes(c.destination.sig_type.public_key_length)
    unsigned = m.LeaseSet1(c.destination, public, spk, c.leases, b"")
    return dataclasses.replace(unsigned, signature=c.keys.sign(unsigned.signed_bytes()))


def encrypted_lease_set(keys: PrivateKeys, *, published: int | None = None) -> m.EncryptedLeaseSet:
    """An EncryptedLeaseSet "blinded" with an Ed25519 key labelled RedDSA (both verify alike)."""
    now = int(time.time()) if published is None else published
    unsigned = m.EncryptedLeaseSet(
        SigType.RedDSA_SHA512_Ed25519,
        keys.destination.signing_public_key,
        now,
        now + 600,
        0,
        None,
        b"\x42" * 100,
        bytes(64),
    )
    return dataclasses.replace(unsigned, signature=keys.sign(unsigned.signed_bytes()))


def meta_lease_set(keys: PrivateKeys) -> m.MetaLeaseSet:
    now = int(time.time())
    entry = m.MetaEntry(bytes(range(32)), 0, 5, now + 600)
    unsigned = m.MetaLeaseSet(keys.destination, now, now + 600, 0, None, {}, (entry,), (), b"")
    return dataclasses.replace(unsigned, signature=keys.sign(unsigned.signed_bytes()))


# -- codecs ---------------------------------------------------------------------------------------


def round_trip(msg: m.Message) -> None:
    frame = m.encode_message(msg)
    assert m.decode_message(frame[4], frame[5:]) == msg


def test_lease_set_variants_round_trip() -> None:
    keys = PrivateKeys.generate()
    elgamal = derive_public_key(0, ELGAMAL_PRIVATE)
    assert elgamal is not None
    ls1 = m.LeaseSet1(keys.destination, elgamal, bytes(32), (), b"")
    ls1 = dataclasses.replace(ls1, signature=keys.sign(ls1.signed_bytes()))
    assert ls1.verify() and m.LeaseSet1.from_bytes(ls1.to_bytes()) == (ls1, len(ls1.to_bytes()))
    round_trip(m.CreateLeaseSet2Other(3, ls1, ((0, ELGAMAL_PRIVATE),)))
    round_trip(m.CreateLeaseSet(3, bytes(20), ELGAMAL_PRIVATE, ls1.to_bytes()))
    enc = encrypted_lease_set(keys)
    assert enc.verify()
    assert not dataclasses.replace(enc, encrypted=b"\x43" * 100).verify()
    round_trip(m.CreateLeaseSet2Other(3, enc, ((4, bytes(32)),)))
    meta = meta_lease_set(keys)
    assert meta.verify()
    round_trip(m.CreateLeaseSet2Other(3, meta))
    assert m.CreateLeaseSet2Other(3, meta).lease_set_type == 7


def test_encrypted_lease_set_with_offline_keys_round_trips_and_verifies() -> None:
    blinded = PrivateKeys.generate()
    transient = PrivateKeys.generate()
    block = OfflineSignature(
        int(time.time()) + 3600,
        SigType.EdDSA_SHA512_Ed25519,
        transient.destination.signing_public_key,
        b"",
    )
    block = dataclasses.replace(block, signature=blinded.sign(block.signed_bytes()))
    now = int(time.time())
    unsigned = m.EncryptedLeaseSet(
        SigType.RedDSA_SHA512_Ed25519,
        blinded.destination.signing_public_key,
        now,
        now + 60,
        1,
        block,
        b"x",
        bytes(64),
    )
    enc = dataclasses.replace(unsigned, signature=transient.sign(unsigned.signed_bytes()))
    assert enc.verify()
    assert m.EncryptedLeaseSet.from_bytes(enc.to_bytes())[0] == enc


def test_receive_begin_end_report_abuse_round_trip() -> None:
    for msg in (
        m.ReceiveMessageBegin(1, 0xDEADBEEF),
        m.ReceiveMessageEnd(2, 7),
        m.ReportAbuse(3, 1, "spam", 9),
    ):
        round_trip(msg)
    assert m.encode_message(m.ReceiveMessageEnd(2, 7))[5:] == b"\x00\x02\x00\x00\x00\x07"
    with pytest.raises(DataFormatError):
        m.decode_message(6, b"\x00\x01\x00")


def test_blinding_info_round_trips_every_endpoint() -> None:
    dest = PrivateKeys.generate().destination
    for endpoint in (bytes(range(32)), "site.i2p", dest, (SigType.EdDSA_SHA512_Ed25519, bytes(32))):
        round_trip(m.BlindingInfo(1, endpoint, 11, 1_700_000_000))
    round_trip(m.BlindingInfo(1, dest, 11, 5, AUTH_DH, bytes(32), "secret"))
    round_trip(m.BlindingInfo(1, dest, 11, 5, AUTH_PSK, bytes(range(32))))
    body = m.BlindingInfo(1, "x.i2p", 11, 5).encode()
    with pytest.raises(DataFormatError, match="authentication type 2"):
        m.decode_message(42, body[:2] + b"\x02" + body[3:])
    with pytest.raises(DataFormatError, match="endpoint type 9"):
        m.decode_message(42, body[:3] + b"\x09" + body[4:])


def test_b33_names() -> None:
    key = bytes(range(32))
    name = blinded_name(SigType.EdDSA_SHA512_Ed25519, key, secret_required=True)
    assert len(name) == 56 + len(".b32.i2p")
    parsed = parse_blinded_name(name.upper())
    assert parsed is not None
    assert (parsed.signing_key, parsed.secret_required, parsed.auth_required) == (key, True, False)
    assert parse_blinded_name(PrivateKeys.generate().destination.b32) is None
    corrupt = name[:10] + ("a" if name[10] != "a" else "b") + name[11:]
    assert parse_blinded_name(corrupt) is None or parse_blinded_name(corrupt) != parsed


def test_blinding_table_is_bounded_and_ignores_hash_endpoints() -> None:
    table = BlindingTable(limit=2)
    assert not table.add(m.BlindingInfo(1, bytes(32), 11, 0))
    keys = [bytes([i]) * 32 for i in range(3)]
    for key in keys:
        assert table.add(m.BlindingInfo(1, (SigType.EdDSA_SHA512_Ed25519, key), 11, 0))
    assert len(table) == 2 and table.get(keys[0]) is None and table.get(keys[2]) is not None


# -- legacy CreateLeaseSet and LeaseSet v1 -------------------------------------------------------


async def test_legacy_create_lease_set_makes_the_session_reachable(target: RouterTarget) -> None:
    c = await created(target)
    assert c.session_id is not None
    ls = lease_set1(c)
    c.send(m.CreateLeaseSet(c.session_id, bytes(20), ELGAMAL_PRIVATE, ls.to_bytes()))
    assert await reachable(c)
    session = target.embedded.find_session(c.destination.hash)
    assert session is not None and session.lease_set == ls
    # and another client reaches it
    b = await created(target)
    b.publish()
    assert b.session_id is not None
    b.send(m.SendMessage(b.session_id, c.destination, wrap(b"hi", protocol=PROTO_RAW), 1))
    status = await b.expect(m.MessageStatus)
    assert isinstance(status, m.MessageStatus) and status.status == 4
    got = await c.expect(m.MessagePayload)
    assert isinstance(got, m.MessagePayload)
    await c.close()
    await b.close()


async def test_lease_set1_in_create_lease_set2(target: RouterTarget) -> None:
    c = await created(target)
    assert c.session_id is not None
    c.send(m.CreateLeaseSet2Other(c.session_id, lease_set1(c), ((0, ELGAMAL_PRIVATE),)))
    assert await reachable(c)
    await c.close()


async def test_legacy_lease_set_problems_disconnect(target: RouterTarget) -> None:
    c = await created(target)
    assert c.session_id is not None
    wrong = bytes(range(9, 41)) * 8
    c.send(m.CreateLeaseSet(c.session_id, bytes(20), wrong, lease_set1(c).to_bytes()))
    assert "Private/public crypto key mismatch" in await c.disconnected()
    c = await created(target)
    assert c.session_id is not None
    ls = lease_set1(c)
    forged = dataclasses.replace(ls, signature=bytes(len(ls.signature)))
    c.send(m.CreateLeaseSet(c.session_id, bytes(20), ELGAMAL_PRIVATE, forged.to_bytes()))
    assert "signature" in await c.disconnected()
    c = await created(target)
    assert c.session_id is not None
    c.send(m.CreateLeaseSet(c.session_id, bytes(20), ELGAMAL_PRIVATE, b"\x00" * 10))
    assert "malformed message of type 4" in await c.disconnected()


# -- receive without fast receive -----------------------------------------------------------------


async def test_no_fast_receive_announces_then_sends_on_begin(target: RouterTarget) -> None:
    a = await created(target)
    a.publish()
    b = await created(target, {"i2cp.fastReceive": "false"})
    b.publish()
    assert await reachable(a) and await reachable(b)
    assert a.session_id is not None and b.session_id is not None
    blob = wrap(b"legacy", protocol=PROTO_RAW)
    a.send(m.SendMessage(a.session_id, b.destination, blob, 0))
    note = await b.expect(m.MessageStatus)
    assert isinstance(note, m.MessageStatus)
    assert (note.status, note.size, note.nonce) == (0, len(blob), 0)
    b.send(m.ReceiveMessageBegin(b.session_id, note.message_id))
    got = await b.expect(m.MessagePayload)
    assert got == m.MessagePayload(b.session_id, note.message_id, blob)
    # held until End: a second Begin sends it again; after End it is gone (ignored, as Java)
    b.send(m.ReceiveMessageBegin(b.session_id, note.message_id))
    assert await b.expect(m.MessagePayload) == got
    b.send(m.ReceiveMessageEnd(b.session_id, note.message_id))
    b.send(m.ReceiveMessageBegin(b.session_id, note.message_id))
    assert await reachable(b)  # the next message is the DestReply: nothing was sent
    assert target.embedded.stats().protocol_errors == 0
    await a.close()
    await b.close()


async def test_held_payloads_are_bounded() -> None:
    async with embedded_router(seed=6, max_queue_bytes=10_000) as t:
        a = await created(t)
        a.publish()
        b = await created(t, {"i2cp.fastReceive": "false"})
        b.publish()
        assert await reachable(a) and await reachable(b)
        assert a.session_id is not None
        blob = wrap(bytes(4000), protocol=PROTO_RAW, compress=False)
        for _ in range(6):
            a.send(m.SendMessage(a.session_id, b.destination, blob, 0))
        assert await reachable(a)
        await t.embedded.wait_until(lambda r: r.counters().delivered + r.counters().dropped >= 6)
        counters = t.embedded.counters(a.destination, b.destination)
        assert counters.delivered == 3 and counters.dropped == 3
        await a.close()
        await b.close()


# -- encrypted and meta lease sets, BlindingInfo, b33 lookups ----------------------------------


async def publish_encrypted(target: RouterTarget, options: dict[str, str]) -> RawClient:
    c = await created(target, {"i2cp.leaseSetType": "5", **options})
    assert c.session_id is not None
    c.send(m.CreateLeaseSet2Other(c.session_id, encrypted_lease_set(c.keys), ((4, c.x_priv),)))
    assert await reachable(c)
    session = target.embedded.find_session(c.destination.hash)
    assert session is not None and isinstance(session.lease_set, m.EncryptedLeaseSet)
    return c


async def lookup(c: RawClient, name: str) -> m.HostReply:
    assert c.session_id is not None
    c.send(m.HostLookup(c.session_id, 77, 10_000, 1, name))
    reply = await c.expect(m.HostReply)
    assert isinstance(reply, m.HostReply)
    return reply


async def test_encrypted_lease_set_lookups_and_blinding_info(target: RouterTarget) -> None:
    secret = "open sesame"
    server = await publish_encrypted(target, {"i2cp.leaseSetSecret": b64encode(secret.encode())})
    dest = server.destination
    name = blinded_name(dest.sig_type, dest.signing_public_key, secret_required=True)
    client = await created(target)
    client.publish()
    assert (await lookup(client, name)).result == 2  # secret required
    key = (dest.sig_type, dest.signing_public_key)
    assert client.session_id is not None
    client.send(m.BlindingInfo(client.session_id, key, 11, 0, secret="wrong"))
    assert (await lookup(client, name)).result == 5  # decryption failure
    client.send(m.BlindingInfo(client.session_id, dest, 11, 0, secret=secret))
    reply = await lookup(client, name)
    assert (reply.result, reply.destination) == (0, dest)
    # routing to it works as to any session
    blob = wrap(b"to blinded", protocol=PROTO_RAW)
    client.send(m.SendMessage(client.session_id, dest, blob, 3))
    assert (await client.expect(m.MessageStatus)).status == 4  # type: ignore[attr-defined]
    assert (await server.expect(m.MessagePayload)).payload == blob  # type: ignore[attr-defined]
    # a b33 name nobody publishes: lease set lookup failure
    other = PrivateKeys.generate().destination
    unknown = blinded_name(other.sig_type, other.signing_public_key)
    assert (await lookup(client, unknown)).result == 6
    assert target.embedded.stats().protocol_errors == 0


async def test_per_client_authentication(target: RouterTarget) -> None:
    priv, pub = generate_x25519()
    psk = bytes(range(32))
    server = await publish_encrypted(
        target,
        {"i2cp.leaseSetAuthType": "1", "i2cp.leaseSetClient.dh.0": f"alice:{b64encode(pub)}"},
    )
    dest = server.destination
    name = blinded_name(dest.sig_type, dest.signing_public_key, auth_required=True)
    client = await created(target)
    assert client.session_id is not None
    assert (await lookup(client, name)).result == 3
    both = blinded_name(
        dest.sig_type, dest.signing_public_key, auth_required=True, secret_required=True
    )
    assert (await lookup(client, both)).result == 4
    client.send(m.BlindingInfo(client.session_id, dest, 11, 0, AUTH_PSK, psk))
    assert (await lookup(client, name)).result == 5  # PSK given, DH expected
    client.send(m.BlindingInfo(client.session_id, dest, 11, 0, AUTH_DH, generate_x25519()[0]))
    assert (await lookup(client, name)).result == 5  # a key the server does not know
    client.send(m.BlindingInfo(client.session_id, dest, 11, 0, AUTH_DH, priv))
    assert (await lookup(client, name)).result == 0


async def test_bad_encrypted_lease_sets_disconnect(target: RouterTarget) -> None:
    c = await created(target)
    assert c.session_id is not None
    enc = encrypted_lease_set(c.keys)
    c.send(
        m.CreateLeaseSet2Other(
            c.session_id, dataclasses.replace(enc, signature=bytes(64)), ((4, c.x_priv),)
        )
    )
    assert "Error decrypting" in await c.disconnected()
    c = await created(target)
    assert c.session_id is not None
    c.send(m.CreateLeaseSet2Other(c.session_id, encrypted_lease_set(c.keys), ()))
    assert "null private keys" in await c.disconnected()
    c = await created(target)
    assert c.session_id is not None
    stale = encrypted_lease_set(c.keys, published=int(time.time()) - 3600)
    c.send(m.CreateLeaseSet2Other(c.session_id, stale, ((4, c.x_priv),)))
    assert "published" in await c.disconnected()


async def test_meta_lease_set_is_stored_and_sends_to_it_fail_with_22(target: RouterTarget) -> None:
    meta = await created(target)
    assert meta.session_id is not None
    meta.send(m.CreateLeaseSet2Other(meta.session_id, meta_lease_set(meta.keys)))
    assert await reachable(meta)
    a = await created(target)
    a.publish()
    assert a.session_id is not None
    a.send(m.SendMessage(a.session_id, meta.destination, wrap(b"x", protocol=PROTO_RAW), 9))
    assert (await a.expect(m.MessageStatus)).status == 22  # type: ignore[attr-defined]
    other = await created(target)
    assert other.session_id is not None
    other.send(m.CreateLeaseSet2Other(other.session_id, meta_lease_set(meta.keys)))
    assert "Different destination" in await other.disconnected()


async def test_encrypted_lease_set_type_needs_an_ed25519_destination(target: RouterTarget) -> None:
    c = await RawClient.open(target.i2cp_address, PrivateKeys.generate(SigType.ECDSA_SHA256_P256))
    await c.hello()
    status = await c.create(c.config({"i2cp.leaseSetType": "5"}))
    assert status.status == m.SessionStatus.INVALID
    await c.close()


# -- messages Java's router ignores ----------------------------------------------------------------


async def test_set_date_report_abuse_and_blinding_by_hash_are_ignored(target: RouterTarget) -> None:
    c = await created(target)
    c.publish()
    assert c.session_id is not None
    c.send(m.SetDate(0, "0.9.66"))
    c.send(m.ReportAbuse(c.session_id, 1, "nothing", 0))
    c.send(m.BlindingInfo(c.session_id, bytes(32), 11, 0))
    assert await reachable(c)
    assert target.embedded.stats().protocol_errors == 0
    assert len(target.embedded.blinding) == 0
    await c.close()


def test_every_client_message_type_has_a_codec() -> None:
    """Each type a client may send by the I2CP spec decodes to its message class (or is
    rejected as malformed), never to UnknownMessage."""
    for msg_type in (1, 2, 3, 4, 5, 6, 7, 8, 29, 30, 32, 34, 36, 38, 41, 42):
        try:
            decoded = m.decode_message(msg_type, b"\xff")
        except DataFormatError:
            continue
        assert not isinstance(decoded, m.UnknownMessage), msg_type
    assert isinstance(m.decode_message(99, b""), m.UnknownMessage)


def test_blinding_info_with_unused_flag_bits_is_malformed() -> None:
    """Found by the fuzzer: bits 7-5 were dropped on decode, so the message did not re-encode."""
    body = m.BlindingInfo(1, "x.i2p", 11, 5).encode()
    with pytest.raises(DataFormatError, match="unused flag bits"):
        m.decode_message(42, body[:2] + b"\x40" + body[3:])
