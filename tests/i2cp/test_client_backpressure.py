"""Back-pressure against the embedded router: drain timeout, a reset while draining, a
batch sent in one write."""

from __future__ import annotations

import asyncio

import pytest

from i2p_streaming.aio import I2CPClient
from i2p_streaming.errors import I2CPConnectionError
from i2p_streaming.i2cp import PROTO_RAW
from i2p_streaming.router import Impairments
from tests.support.embedded import embedded_router

LOGGER = "i2p_streaming.i2cp"


async def _stall_router_and_fill(a: I2CPClient, b: I2CPClient, router: object) -> None:
    """Make the router stop reading ``a``'s socket, then fill every buffer on the way."""
    from i2p_streaming.router import EmbeddedRouter

    assert isinstance(router, EmbeddedRouter)
    chunk = bytes(32 * 1024)
    for _ in range(4):  # > max_pending_bytes scheduled: the router pauses reading a
        assert a.send_nowait(b.destination, chunk, protocol=PROTO_RAW)
    await router.wait_until(lambda r: r.stats().read_pauses >= 1, timeout=5)
    a.max_write_buffer = 256 * 1024
    for _ in range(2000):  # kernel buffers fill, then a's own buffer passes its bound
        if not a.send_nowait(b.destination, chunk, protocol=PROTO_RAW):
            break
    else:
        pytest.fail("the write buffer never filled although the router stopped reading")
    assert a.dropped_sends == 1


async def test_send_fails_when_the_router_stops_reading() -> None:
    async with embedded_router(
        impairments=Impairments(delay=60.0), max_pending_bytes=64 * 1024, seed=1
    ) as target:
        a = await I2CPClient.connect(*target.i2cp_address, timeout=5)
        b = await I2CPClient.connect(*target.i2cp_address, timeout=5)
        try:
            await _stall_router_and_fill(a, b, target.embedded)
            with pytest.raises(I2CPConnectionError, match="does not read our data") as info:
                await a.send(b.destination, b"x", protocol=PROTO_RAW, timeout=0.2)
            assert a.router in str(info.value)
        finally:
            target.embedded.find_session(a.destination.hash).conn.abort()  # type: ignore[union-attr]
            await a.close(timeout=0.5)
            await b.close()


async def test_send_fails_when_the_connection_resets_while_draining() -> None:
    async with embedded_router(
        impairments=Impairments(delay=60.0), max_pending_bytes=64 * 1024, seed=1
    ) as target:
        a = await I2CPClient.connect(*target.i2cp_address, timeout=5)
        b = await I2CPClient.connect(*target.i2cp_address, timeout=5)
        try:
            await _stall_router_and_fill(a, b, target.embedded)
            session = target.embedded.find_session(a.destination.hash)
            assert session is not None
            send = asyncio.ensure_future(a.send(b.destination, b"x", protocol=PROTO_RAW))
            session.conn.abort()  # unread data on the router side: the client gets a reset
            with pytest.raises(I2CPConnectionError, match="write failed") as info:
                await asyncio.wait_for(send, 5)
            assert a.b32 in str(info.value)
            await asyncio.wait_for(a.wait_closed(), 5)
            assert not a.is_connected
        finally:
            await a.close(timeout=0.5)
            await b.close()


async def test_send_many_nowait_delivers_a_batch_in_order() -> None:
    """A batch goes to the router in one write and arrives complete and in order."""
    from i2p_streaming.i2cp import PROTO_RAW
    from tests.support.embedded import embedded_router

    async with embedded_router(seed=1) as target:
        host, port = target.i2cp_address
        async with (
            await I2CPClient.connect(host, port, timeout=10) as a,
            await I2CPClient.connect(host, port, timeout=10) as b,
        ):
            batch = [(b.destination, b"%d" % i, PROTO_RAW, i, 7, None) for i in range(50)]
            assert a.send_many_nowait(batch) == 50
            got = [await b.receive(timeout=5) for _ in range(50)]
            assert [(p.data, p.src_port, p.dst_port) for p in got] == [
                (b"%d" % i, i, 7) for i in range(50)
            ]
            assert a.dropped_sends == 0
