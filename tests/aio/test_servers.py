"""StreamServer lifecycle: close keeps open streams, serve_forever, the catch-all port 0."""

from __future__ import annotations

import asyncio

import pytest

from i2p_streaming.aio import Session
from tests.support.protocols import Recorder

pytestmark = pytest.mark.timeout(30)


async def test_server_close_keeps_open_streams(pair: tuple[Session, Session]) -> None:
    a, b = pair
    accepted: asyncio.Future[Recorder] = asyncio.get_running_loop().create_future()

    def factory() -> Recorder:
        proto = Recorder()
        accepted.set_result(proto)
        return proto

    server = await b.create_server(factory, 50)
    transport, protocol = await a.create_connection(Recorder, b.destination, 50)
    assert isinstance(protocol, Recorder)
    server_proto = await asyncio.wait_for(accepted, 10)
    server.close()
    await server.wait_closed()
    assert not server.is_serving()
    # the open stream still works both ways
    transport.write(b"ping")
    await asyncio.wait_for(server_proto.got_data, 10)
    assert server_proto.transport is not None
    server_proto.transport.write(b"pong")
    await asyncio.wait_for(protocol.got_data, 10)
    assert protocol.data == b"pong" and server_proto.data == b"ping"
    # new streams are refused
    with pytest.raises(ConnectionRefusedError):
        await a.create_connection(Recorder, b.destination, 50, timeout=10)
    with pytest.raises(RuntimeError, match="closed"):
        await server.start_serving()
    with pytest.raises(RuntimeError, match="closed"):
        await server.serve_forever()
    server.close()  # idempotent
    transport.close()


async def test_serve_forever_ends_on_close_and_rejects_second_waiter(
    pair: tuple[Session, Session],
) -> None:
    _, b = pair
    server = await b.create_server(Recorder, 51)
    assert server.get_loop() is asyncio.get_running_loop()
    assert server.session is b
    task = asyncio.create_task(server.serve_forever())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already being awaited"):
        await server.serve_forever()
    server.close()  # like asyncio.Server: the serve_forever task ends cancelled
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not server.is_serving()


async def test_catch_all_port_zero_server(pair: tuple[Session, Session]) -> None:
    a, b = pair
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.set_result(writer.get_extra_info("local_port"))
        writer.close()

    server = await b.start_server(handler)  # port 0: any port without its own server
    _, writer = await a.open_connection(b.destination, 1234)
    assert await asyncio.wait_for(seen, 10) == 1234
    writer.close()
    server.close()
    with pytest.raises(ConnectionRefusedError):
        await a.open_connection(b.destination, 1234, timeout=10)
