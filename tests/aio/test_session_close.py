"""Session close and loss: pending connects fail, streams end or are reset, calls fail."""

from __future__ import annotations

import asyncio

import pytest

from i2p_streaming.aio import create_session
from i2p_streaming.router import Impairments
from tests.aio.conftest import address
from tests.support.embedded import RouterTarget
from tests.support.fakerouter import FakeRouter
from tests.support.protocols import Recorder

pytestmark = pytest.mark.timeout(30)


async def test_session_close_fails_pending_connect_and_closes_servers(
    router: RouterTarget,
) -> None:
    a = await create_session(address(router))
    b = await create_session(address(router))
    router.embedded.set_pair_impairments(a.destination, b.destination, Impairments(blackhole=True))
    await b.create_server(Recorder, 1)
    server_a = await a.create_server(Recorder, 2)
    pending = asyncio.create_task(a.create_connection(Recorder, b.destination, 1, timeout=10))
    await asyncio.sleep(0)  # let it send its SYN
    assert "open" in repr(a)
    await a.close(timeout=0.5)
    with pytest.raises(ConnectionError, match="clos"):
        await pending
    assert a.is_closed and not server_a.is_serving() and "closed" in repr(a)
    await a.close()  # idempotent
    await a.wait_closed()
    with pytest.raises(ConnectionError, match="closed"):
        await a.create_server(Recorder, 3)
    with pytest.raises(ConnectionError, match="closed"):
        await a.ping(b.destination, timeout=1)
    await b.close()


async def test_cancelled_connect_resets_the_half_open_stream(router: RouterTarget) -> None:
    async with create_session(address(router)) as a, create_session(address(router)) as b:
        router.embedded.set_pair_impairments(
            a.destination, b.destination, Impairments(blackhole=True)
        )
        await b.create_server(Recorder, 1)
        task = asyncio.create_task(a.create_connection(Recorder, b.destination, 1))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert "streams=0" in repr(a)  # the half-open stream was abandoned


async def test_session_close_resets_streams_that_do_not_end_in_time(
    router: RouterTarget,
) -> None:
    a = await create_session(address(router))
    b = await create_session(address(router))
    await b.create_server(Recorder, 1)
    transport, protocol = await a.create_connection(Recorder, b.destination, 1)
    assert isinstance(protocol, Recorder)
    router.embedded.set_pair_impairments(a.destination, b.destination, Impairments(blackhole=True))
    await a.close(timeout=0.05)  # our CLOSE is never acknowledged
    assert await asyncio.wait_for(protocol.lost, 5) is None
    assert transport.is_closing() and "streams=0" in repr(a)
    await b.close(timeout=0.05)


async def test_router_going_away_fails_streams_and_calls(router: RouterTarget) -> None:
    a = await create_session(address(router))
    b = await create_session(address(router))
    await b.create_server(Recorder, 1)
    transport, protocol = await a.create_connection(Recorder, b.destination, 1)
    assert isinstance(protocol, Recorder)
    await router.embedded.stop()
    exc = await asyncio.wait_for(protocol.lost, 10)
    assert isinstance(exc, ConnectionResetError) and "lost" in str(exc)
    with pytest.raises(ConnectionResetError):
        transport.write(b"x")
    with pytest.raises(ConnectionError, match="lost its router"):
        await a.create_connection(Recorder, b.destination, 1)
    await asyncio.wait_for(a.close(), 5)  # does not wait for streams that cannot end
    await asyncio.wait_for(b.close(), 5)


async def test_final_ack_of_the_peers_close_reaches_it_when_the_session_closes_at_once(
    router: RouterTarget,
) -> None:
    """We close first; the peer's CLOSE ends our stream; we close the session at once: the
    ACK of the peer's CLOSE still goes out, so the peer's stream ends cleanly."""
    a = await create_session(address(router))
    b = await create_session(address(router))
    peer: asyncio.Future[Recorder] = asyncio.get_running_loop().create_future()

    class Closer(Recorder):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            peer.set_result(self)

        def eof_received(self) -> bool:
            super().eof_received()
            return False  # close our side too: the peer's CLOSE

    slow = Impairments(delay=0.15)  # SRTT ~0.3 s: an ACK would wait SRTT/4
    router.embedded.set_pair_impairments(a.destination, b.destination, slow)
    router.embedded.set_pair_impairments(b.destination, a.destination, slow)
    await b.create_server(Closer, 1)
    transport, protocol = await a.create_connection(Recorder, b.destination, 1)
    assert isinstance(protocol, Recorder)
    b_protocol = await asyncio.wait_for(peer, 5)
    transport.close()
    assert await asyncio.wait_for(protocol.lost, 5) is None  # the peer's CLOSE arrived
    await a.close(timeout=1)
    assert await asyncio.wait_for(b_protocol.lost, 10) is None  # its CLOSE was acked
    await b.close(timeout=1)


async def test_close_honours_its_timeout_when_the_router_never_confirms() -> None:
    fake = FakeRouter()
    host, port = await fake.start()
    try:
        session = await create_session(f"{host}:{port}")
        fake.reply_to_destroy = False
        loop = asyncio.get_running_loop()
        start = loop.time()
        await session.close(timeout=1)
        assert loop.time() - start < 1.5  # a bound, not a benchmark
        assert session.is_closed
    finally:
        await fake.stop()


async def test_close_does_not_wait_for_a_stream_the_peer_reset(router: RouterTarget) -> None:
    a = await create_session(address(router))
    b = await create_session(address(router))
    peer: asyncio.Future[Recorder] = asyncio.get_running_loop().create_future()

    class Note(Recorder):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            peer.set_result(self)

    await b.create_server(Note, 1)
    _transport, protocol = await a.create_connection(Recorder, b.destination, 1)
    assert isinstance(protocol, Recorder)
    b_protocol = await asyncio.wait_for(peer, 5)
    assert b_protocol.transport is not None
    b_protocol.transport.abort()  # RESET
    exc = await asyncio.wait_for(protocol.lost, 5)
    assert isinstance(exc, ConnectionResetError)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await a.close(timeout=10)
    assert loop.time() - start < 1.5  # nothing left to wait for
    await b.close(timeout=1)
