"""End to end over loopback sockets: our I2CP client against the embedded router."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest

from i2p_streaming.aio import I2CPClient
from i2p_streaming.data import PrivateKeys, SigType
from i2p_streaming.errors import DataFormatError, DestinationLookupError, SessionRefusedError
from i2p_streaming.i2cp import PROTO_RAW
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.payload import unwrap, wrap
from i2p_streaming.router import EmbeddedRouter, Impairments
from tests.support.embedded import RouterTarget, embedded_router
from tests.support.raw import RawClient
from tests.support.tls import make_tls_contexts


@pytest.fixture
async def target() -> AsyncIterator[RouterTarget]:
    async with embedded_router(seed=1) as t:
        yield t


async def pair(target: RouterTarget) -> tuple[I2CPClient, I2CPClient]:
    a = await I2CPClient.connect(*target.i2cp_address, timeout=5)
    b = await I2CPClient.connect(*target.i2cp_address, timeout=5)
    return a, b


async def test_two_sessions_exchange_payloads(target: RouterTarget) -> None:
    a, b = await pair(target)
    async with a, b:
        for i in range(20):
            result = await a.send(b.destination, b"ping %d" % i, protocol=PROTO_RAW, dst_port=7)
            assert result.delivered
            assert result.status == 4
        for i in range(20):
            got = await b.receive(timeout=5)
            assert (got.data, got.protocol, got.dst_port) == (b"ping %d" % i, PROTO_RAW, 7)
        assert b.send_nowait(a.destination, b"pong", protocol=PROTO_RAW, src_port=9)
        got = await a.receive(timeout=5)
        assert (got.data, got.src_port) == (b"pong", 9)
    router = target.embedded
    c = router.counters(a.destination, b.destination)
    assert (c.delivered, c.dropped) == (20, 0)
    assert router.counters(src=b.destination).delivered == 1
    await router.wait_until(lambda r: r.stats().sessions == 0)


async def test_status_21_for_unknown_destination(target: RouterTarget) -> None:
    async with await I2CPClient.connect(*target.i2cp_address, timeout=5) as a:
        result = await a.send(PrivateKeys.generate().destination, b"x", protocol=PROTO_RAW)
        assert not result.delivered
        assert result.status == 21


async def test_lookups_by_b32_and_registered_name(target: RouterTarget) -> None:
    a, b = await pair(target)
    async with a, b:
        target.embedded.register_name("echo.i2p", b.destination)
        assert await a.lookup(b.b32) == b.destination
        assert await a.lookup("ECHO.i2p") == b.destination
        assert await a.lookup(a.b32) == a.destination
        with pytest.raises(DestinationLookupError, match="not found"):
            await a.lookup("nobody.i2p")
        with pytest.raises(DestinationLookupError):
            await a.lookup(PrivateKeys.generate().destination.b32)
        target.embedded.unregister_name("echo.i2p")
        with pytest.raises(DestinationLookupError):
            await a.lookup("echo.i2p")
        assert set(target.embedded.destinations()) == {a.destination, b.destination}


async def test_duplicate_destination_refused(target: RouterTarget) -> None:
    keys = PrivateKeys.generate()
    async with await I2CPClient.connect(*target.i2cp_address, keys=keys, timeout=5):
        with pytest.raises(SessionRefusedError, match="refused"):
            await I2CPClient.connect(*target.i2cp_address, keys=keys, timeout=5)


async def test_other_signature_types(target: RouterTarget) -> None:
    ecdsa = PrivateKeys.generate(SigType.ECDSA_SHA256_P256)
    p521 = PrivateKeys.generate(SigType.ECDSA_SHA512_P521)
    a = await I2CPClient.connect(*target.i2cp_address, keys=ecdsa, timeout=5)
    b = await I2CPClient.connect(*target.i2cp_address, keys=p521, timeout=5)
    async with a, b:
        assert (await a.send(b.destination, b"hi", protocol=PROTO_RAW)).delivered
        assert (await b.receive(timeout=5)).data == b"hi"


async def test_reconfigure_and_destroy(target: RouterTarget) -> None:
    client = await I2CPClient.connect(*target.i2cp_address, timeout=5)
    await client.reconfigure({"inbound.length": "1"})
    router = target.embedded
    assert len(router.destinations()) == 1
    await client.close()
    await router.wait_until(lambda r: r.stats().connections == 0)
    assert router.destinations() == []


async def test_router_stop_disconnects_clients() -> None:
    async with embedded_router() as t:
        client = await I2CPClient.connect(*t.i2cp_address, timeout=5)
        await t.embedded.stop()
        await asyncio.wait_for(client.wait_closed(), 5)
        with pytest.raises(SessionRefusedError, match="shutting down"):
            await client.receive(timeout=5)
        await client.close()


async def test_corruption_is_dropped_by_the_client(target: RouterTarget) -> None:
    a, b = await pair(target)
    router = target.embedded
    async with a, b:
        router.set_pair_impairments(a.destination, b.destination, Impairments(corrupt=1.0))
        for i in range(10):
            assert a.send_nowait(b.destination, b"bad %d" % i, protocol=PROTO_RAW)
        await router.wait_until(lambda r: r.counters().corrupted == 10)
        router.set_pair_impairments(a.destination, b.destination, None)
        assert a.send_nowait(b.destination, b"good", protocol=PROTO_RAW)
        got = await b.receive(timeout=5)
        assert got.data == b"good"  # the ten corrupted ones failed the CRC check
        assert router.counters().corrupted == 10


async def test_corrupted_payload_fails_unwrap_at_a_raw_receiver(target: RouterTarget) -> None:
    router = target.embedded
    router.impairments = Impairments(corrupt=1.0)
    a = await RawClient.open(target.i2cp_address)
    b = await RawClient.open(target.i2cp_address)
    await a.ready()
    await b.ready()
    blob = wrap(b"x" * 100, protocol=PROTO_RAW)
    assert a.session_id is not None
    a.send(m.SendMessage(a.session_id, b.destination, blob, 0))
    msg = await b.expect(m.MessagePayload)
    assert isinstance(msg, m.MessagePayload)
    assert msg.payload != blob
    with pytest.raises(DataFormatError):
        unwrap(msg.payload)
    await a.close()
    await b.close()


async def test_blackhole_until_switched_off(target: RouterTarget) -> None:
    a, b = await pair(target)
    router = target.embedded
    async with a, b:
        router.impairments = Impairments(blackhole=True)
        for i in range(5):
            result = await a.send(b.destination, b"lost %d" % i, protocol=PROTO_RAW)
            assert result.delivered  # loss in the network is silent, as on a real router
        router.impairments = Impairments()
        await a.send(b.destination, b"through", protocol=PROTO_RAW)
        assert (await b.receive(timeout=5)).data == b"through"
        c = router.counters(a.destination, b.destination)
        assert (c.dropped, c.delivered) == (5, 1)


async def test_duplication_end_to_end(target: RouterTarget) -> None:
    a, b = await pair(target)
    target.embedded.impairments = Impairments(duplicate=1.0)
    async with a, b:
        a.send_nowait(b.destination, b"twice", protocol=PROTO_RAW)
        first = await b.receive(timeout=5)
        second = await b.receive(timeout=5)
        assert first.data == second.data == b"twice"
        assert first.message_id != second.message_id


async def test_delay_and_reorder_end_to_end(target: RouterTarget) -> None:
    a, b = await pair(target)
    router = target.embedded
    async with a, b:
        router.impairments = Impairments(delay=0.1)
        loop = asyncio.get_running_loop()
        start = loop.time()
        a.send_nowait(b.destination, b"late", protocol=PROTO_RAW)
        await b.receive(timeout=5)
        assert loop.time() - start >= 0.1
        router.impairments = Impairments(reorder=0.5, reorder_delay=0.05)
        for i in range(20):
            a.send_nowait(b.destination, bytes([i]), protocol=PROTO_RAW)
        got = [(await b.receive(timeout=5)).data[0] for _ in range(20)]
        assert sorted(got) == list(range(20))
        assert got != list(range(20))


async def test_receiver_gone_before_delivery_counts_a_drop(target: RouterTarget) -> None:
    a, b = await pair(target)
    router = target.embedded
    router.impairments = Impairments(delay=0.2)
    async with a:
        a.send_nowait(b.destination, b"too late", protocol=PROTO_RAW)
        await router.wait_until(lambda r: r.counters().delivered == 1)
        await b.close()
        await router.wait_until(lambda r: r.counters().dropped == 1)
        assert router.counters().delivered == 0


async def test_rate_cap_on_real_sockets() -> None:
    rate = 512 * 1024
    async with embedded_router(impairments=Impairments(rate=rate, queue_bytes=1 << 20)) as t:
        a, b = await pair(t)
        async with a, b:
            loop = asyncio.get_running_loop()
            chunk = bytes(16 * 1024 - 23)  # a 16 KiB gzip blob
            for _ in range(33):
                assert a.send_nowait(b.destination, chunk, protocol=PROTO_RAW)
            arrivals = []
            for _ in range(33):
                await b.receive(timeout=5)
                arrivals.append(loop.time())
            throughput = 32 * 16 * 1024 / (arrivals[-1] - arrivals[0])
            assert throughput == pytest.approx(rate, rel=0.1)


async def test_pending_bytes_back_pressure_loses_nothing() -> None:
    async with embedded_router(
        impairments=Impairments(delay=0.05), max_pending_bytes=64 * 1024
    ) as t:
        a, b = await pair(t)
        async with a, b:
            for i in range(64):
                assert a.send_nowait(b.destination, bytes([i]) * 8000, protocol=PROTO_RAW)
            got = [(await b.receive(timeout=5)).data[0] for _ in range(64)]
            assert got == list(range(64))
            assert t.embedded.stats().read_pauses > 0
            assert t.embedded.counters().dropped == 0


async def test_tls_and_authentication() -> None:
    server_ctx, client_ctx = make_tls_contexts()
    async with embedded_router(tls=server_ctx, username="u", password="p") as t:
        host, port = t.i2cp_address

        def connect(password: str) -> Coroutine[Any, Any, I2CPClient]:
            return I2CPClient.connect(
                host,
                port,
                ssl=client_ctx,
                server_hostname="localhost",
                timeout=5.0,
                username="u",
                password=password,
            )

        a = await connect("p")
        b = await connect("p")
        async with a, b:
            assert (await a.send(b.destination, b"secret", protocol=PROTO_RAW)).delivered
            assert (await b.receive(timeout=5)).data == b"secret"
        with pytest.raises(SessionRefusedError, match="Authorization failed"):
            await connect("x")


def test_constructor_and_argument_errors() -> None:
    with pytest.raises(ValueError, match="leases_per_set"):
        EmbeddedRouter(leases_per_set=0)
    router = EmbeddedRouter()
    with pytest.raises(ValueError, match="32 bytes"):
        router.set_pair_impairments(b"short", b"x" * 32, Impairments())
    with pytest.raises(ValueError, match="host name"):
        router.register_name("", PrivateKeys.generate().destination)
    assert router.impairments == Impairments()
    assert dataclasses.replace(router.stats().counters) == router.counters()


async def test_double_start_and_stop_are_handled() -> None:
    router = EmbeddedRouter(seed=3)
    await router.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            await router.start()
        with pytest.raises(TimeoutError):
            await router.wait_until(lambda r: False, timeout=0.01)
    finally:
        await router.stop()
    await router.stop()
