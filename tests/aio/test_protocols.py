"""asyncio Protocol/Transport API: create_connection, create_server, flow control, servers."""

from __future__ import annotations

import asyncio

import pytest

from i2p_streaming.aio import Session, StreamTransport, create_session
from tests.aio.conftest import address
from tests.support.embedded import RouterTarget

pytestmark = pytest.mark.timeout(30)


class Upper(asyncio.Protocol):
    """Server protocol: answers every chunk upper-cased; closes after the peer's CLOSE."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, StreamTransport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data.upper())

    def eof_received(self) -> bool:
        return False  # -> transport.close()


class Collect(asyncio.Protocol):
    def __init__(self) -> None:
        self.data = bytearray()
        self.eof = asyncio.get_running_loop().create_future()
        self.lost: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        self.made = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made = True

    def data_received(self, data: bytes) -> None:
        self.data += data

    def eof_received(self) -> bool:
        self.eof.set_result(None)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set_result(exc)


async def test_protocol_over_create_connection(pair: tuple[Session, Session]) -> None:
    a, b = pair
    server = await b.create_server(Upper, 21)
    transport, protocol = await a.create_connection(Collect, b.destination, 21)
    assert isinstance(protocol, Collect) and protocol.made
    assert transport.can_write_eof()
    transport.writelines([b"hello ", b"world"])
    transport.write_eof()
    await asyncio.wait_for(protocol.eof, 10)
    assert bytes(protocol.data) == b"HELLO WORLD"
    assert await asyncio.wait_for(protocol.lost, 10) is None
    assert transport.is_closing()
    server.close()


async def test_pause_and_resume_reading(pair: tuple[Session, Session]) -> None:
    a, b = pair
    server_lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    class UpperTracked(Upper):
        def connection_lost(self, exc: Exception | None) -> None:
            server_lost.set_result(None)

    await b.create_server(UpperTracked, 22)
    transport, protocol = await a.create_connection(Collect, b.destination, 22)
    assert isinstance(protocol, Collect)
    transport.pause_reading()
    assert not transport.is_reading()
    transport.write(b"abc")
    transport.write_eof()
    # the answer and the peer's CLOSE arrive while paused: both wait in the transport
    await asyncio.wait_for(server_lost, 10)
    assert protocol.data == b"" and not protocol.eof.done() and not protocol.lost.done()
    transport.resume_reading()
    await asyncio.wait_for(protocol.eof, 10)
    assert protocol.data == b"ABC"
    assert await asyncio.wait_for(protocol.lost, 10) is None


async def test_abort_resets_peer(pair: tuple[Session, Session]) -> None:
    a, b = pair
    accepted: asyncio.Future[Collect] = asyncio.get_running_loop().create_future()

    def factory() -> Collect:
        proto = Collect()
        accepted.set_result(proto)
        return proto

    await b.create_server(factory, 24)
    transport, protocol = await a.create_connection(Collect, b.destination, 24)
    transport.write(b"x")
    server_proto = await asyncio.wait_for(accepted, 10)
    transport.abort()
    assert isinstance(protocol, Collect)
    assert await asyncio.wait_for(protocol.lost, 5) is None
    exc = await asyncio.wait_for(server_proto.lost, 10)
    assert isinstance(exc, ConnectionResetError)


async def test_server_api(router: RouterTarget) -> None:
    async with await create_session(address(router)) as b, create_session(address(router)) as a:
        server = await b.create_server(Upper, 30, start_serving=False)
        assert not server.is_serving()
        with pytest.raises(ConnectionRefusedError):
            await a.create_connection(Collect, b.destination, 30)
        task = asyncio.create_task(server.serve_forever())
        await asyncio.sleep(0)
        assert server.is_serving()
        assert server.sockets == () and server.address == (b.b32, 30)
        transport, _ = await a.create_connection(Collect, b.destination, 30)
        with pytest.raises(OSError, match="already has a server"):
            await b.create_server(Upper, 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not server.is_serving()
        await server.wait_closed()
        transport.close()
        async with await b.create_server(Upper, 30) as again:
            assert again.is_serving()
        assert not again.is_serving()
