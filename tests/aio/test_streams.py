"""asyncio streams API over the embedded router: echo, half-close, errors, extra info."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from i2p_streaming.aio import Session, StreamTransport, create_session
from i2p_streaming.data import PrivateKeys
from i2p_streaming.errors import DestinationLookupError
from i2p_streaming.router import Impairments
from i2p_streaming.streaming import StreamStats
from tests.aio.conftest import address
from tests.support.embedded import RouterTarget

pytestmark = pytest.mark.timeout(30)


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.write_eof()
    await writer.wait_closed()


async def read_all(reader: asyncio.StreamReader) -> bytes:
    return await reader.read()


async def test_echo_large_and_extra_info(pair: tuple[Session, Session]) -> None:
    a, b = pair
    server = await b.start_server(echo, 7)
    assert server.is_serving()
    reader, writer = await a.open_connection(b.destination, 7, local_port=1234, timeout=10)
    data = os.urandom(600_000)
    got = asyncio.create_task(read_all(reader))
    writer.write(data)
    await writer.drain()
    writer.write_eof()
    result = await asyncio.wait_for(got, 20)
    assert hashlib.sha256(result).digest() == hashlib.sha256(data).digest()
    assert writer.get_extra_info("peer_destination") == b.destination
    assert writer.get_extra_info("peer_port") == 7
    assert writer.get_extra_info("local_port") == 1234
    assert isinstance(writer.get_extra_info("stream_id"), int)
    stats = writer.get_extra_info("stats")
    assert isinstance(stats, StreamStats)
    assert stats.bytes_sent == len(data) and stats.bytes_received == len(data)
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    assert not server.is_serving()


async def test_server_sees_peer_and_ports(pair: tuple[Session, Session]) -> None:
    a, b = pair
    seen: asyncio.Future[tuple[object, object, object]] = asyncio.get_running_loop().create_future()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.set_result(
            (
                writer.get_extra_info("peer_destination"),
                writer.get_extra_info("peer_port"),
                writer.get_extra_info("local_port"),
            )
        )
        writer.close()

    async with await b.start_server(handler, 80):
        _, writer = await a.open_connection(b.destination, 80, local_port=555)
        assert await asyncio.wait_for(seen, 10) == (a.destination, 555, 80)
        writer.close()


async def test_half_close_both_directions(pair: tuple[Session, Session]) -> None:
    a, b = pair
    done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # server closes its side first, then keeps reading until the client's CLOSE
        writer.write(b"server says bye")
        writer.write_eof()
        done.set_result(await reader.read())
        writer.close()

    server = await b.start_server(handler, 9)
    reader, writer = await a.open_connection(b.destination, 9)
    assert await asyncio.wait_for(reader.read(), 10) == b"server says bye"
    assert reader.at_eof()
    writer.write(b"client still writes after the peer's CLOSE")
    writer.write_eof()
    assert await asyncio.wait_for(done, 10) == b"client still writes after the peer's CLOSE"
    with pytest.raises(BrokenPipeError):
        writer.write(b"x")
    writer.close()
    await writer.wait_closed()
    server.close()


async def test_refused_connection(pair: tuple[Session, Session]) -> None:
    a, b = pair
    with pytest.raises(ConnectionRefusedError, match="refused"):
        await a.open_connection(b.destination, 4242, timeout=10)


async def test_connect_timeout(router: RouterTarget) -> None:
    async with create_session(address(router)) as a, create_session(address(router)) as b:
        router.embedded.set_pair_impairments(
            a.destination, b.destination, Impairments(blackhole=True)
        )
        await b.start_server(echo, 1)
        with pytest.raises(TimeoutError, match=b.b32):
            await a.open_connection(b.destination, 1, timeout=0.5)
        opts = {"i2p.streaming.connectTimeout": "400", "i2p.streaming.initialRTO": "100"}
        with pytest.raises(TimeoutError, match="timed out"):
            await a.open_connection(b.destination, 1, options=opts)


async def test_reset_by_peer(pair: tuple[Session, Session]) -> None:
    a, b = pair

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(4)
        writer.transport.abort()

    await b.start_server(handler, 5)
    reader, writer = await a.open_connection(b.destination, 5)
    writer.write(b"ping")
    with pytest.raises(ConnectionResetError, match="reset"):
        await asyncio.wait_for(reader.read(), 10)
    with pytest.raises(ConnectionResetError):
        writer.write(b"more")


async def test_names_b32_base64_and_lookup_errors(router: RouterTarget) -> None:
    async with create_session(address(router)) as a, create_session(address(router)) as b:
        router.embedded.register_name("echo.i2p", b.destination)
        await b.start_server(echo, 0)
        for dest in ("echo.i2p", b.b32, b.destination.to_base64()):
            reader, writer = await a.open_connection(dest, 3, timeout=10)
            writer.write(b"hi")
            writer.write_eof()
            assert await asyncio.wait_for(reader.read(), 10) == b"hi"
            writer.close()
        with pytest.raises(DestinationLookupError, match=r"nosuch\.i2p"):
            await a.open_connection("nosuch.i2p", 1, timeout=10)


async def test_lookup_timeout(router: RouterTarget) -> None:
    async with create_session(address(router)) as a:
        unknown = PrivateKeys.generate().destination.b32
        # the embedded router answers b32 lookups of unknown hashes with "not found" at once,
        # so a zero timeout is the way to exercise the TimeoutError path
        with pytest.raises((TimeoutError, DestinationLookupError)):
            await a.open_connection(unknown, 1, timeout=0.0)


async def test_ping(pair: tuple[Session, Session]) -> None:
    a, b = pair
    rtt = await a.ping(b.destination, timeout=5)
    assert 0 <= rtt < 5
    assert await a.ping(b.b32, timeout=5) >= 0


async def test_ping_timeout(router: RouterTarget) -> None:
    async with create_session(address(router)) as a, create_session(address(router)) as b:
        router.embedded.set_pair_impairments(
            a.destination, b.destination, Impairments(blackhole=True)
        )
        with pytest.raises(TimeoutError, match="ping"):
            await a.ping(b.destination, timeout=0.3)


async def test_ping_retries_within_its_timeout(router: RouterTarget) -> None:
    """The first two pings are lost: the third, an interval later each, is answered."""
    async with create_session(address(router)) as a, create_session(address(router)) as b:
        embedded = router.embedded
        embedded.set_pair_impairments(a.destination, b.destination, Impairments(blackhole=True))

        async def heal_after_two() -> None:
            await embedded.wait_until(lambda r: r.counters(a.destination).dropped >= 2)
            embedded.set_pair_impairments(a.destination, b.destination, None)

        healer = asyncio.create_task(heal_after_two())
        rtt = await a.ping(b.destination, timeout=10, interval=0.2)
        await healer
        assert 0 <= rtt < 1  # the RTT of the ping that was answered, not of the first
        assert embedded.counters(a.destination, b.destination).dropped == 2


async def test_ping_count_bounds_the_pings_and_the_error_says_so(router: RouterTarget) -> None:
    async with create_session(address(router)) as a, create_session(address(router)) as b:
        router.embedded.set_pair_impairments(
            a.destination, b.destination, Impairments(blackhole=True)
        )
        with pytest.raises(TimeoutError, match=rf"no answer from {b.b32} to 3 pings within 1 s"):
            await a.ping(b.destination, timeout=1, count=3, interval=0.1)
        assert router.embedded.counters(a.destination, b.destination).dropped == 3
        with pytest.raises(ValueError, match="count"):
            await a.ping(b.destination, count=0)


async def test_hundred_concurrent_streams(pair: tuple[Session, Session]) -> None:
    a, b = pair
    server = await b.start_server(echo, 7, backlog=128)  # 100 SYNs arrive at once

    async def one(i: int) -> bytes:
        reader, writer = await a.open_connection(b.destination, 7, timeout=20)
        payload = f"stream {i} ".encode() * (i + 1)
        writer.write(payload)
        writer.write_eof()
        data = await reader.read()
        writer.close()
        await writer.wait_closed()
        assert data == payload
        return data

    results = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(100))), 25)
    assert len(results) == 100
    server.close()


async def test_session_close_closes_streams(router: RouterTarget) -> None:
    b = await create_session(address(router))
    a = await create_session(address(router))
    await b.start_server(echo, 7)
    reader, writer = await a.open_connection(b.destination, 7)
    writer.write(b"x")
    assert await reader.readexactly(1) == b"x"
    await a.close(timeout=2)
    assert a.is_closed
    await asyncio.wait_for(writer.wait_closed(), 5)
    with pytest.raises(ConnectionError):
        await a.open_connection(b.destination, 7)
    await b.close()


async def test_key_file_and_options(tmp_path: object, router: RouterTarget) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "keys.dat"
    with pytest.raises(FileNotFoundError, match="create_keys"):
        await create_session(address(router), keys=path)
    async with create_session(
        address(router), keys=path, create_keys=True, options={"i2p.streaming.maxWindowSize": "16"}
    ) as s:
        first = s.destination
        assert s.options.max_window_size == 16
    async with create_session(address(router), keys=str(path)) as s2:
        assert s2.destination == first
    with pytest.raises(ValueError, match="maxWindowSize"):
        await create_session(address(router), options={"i2p.streaming.maxWindowSise": "16"})


async def test_write_buffer_limits_pause_and_resume(pair: tuple[Session, Session]) -> None:
    a, b = pair
    server = await b.start_server(echo, 7)
    reader, writer = await a.open_connection(b.destination, 7)
    transport = writer.transport
    assert isinstance(transport, StreamTransport)
    transport.set_write_buffer_limits(high=4096)
    assert transport.get_write_buffer_limits() == (1024, 4096)
    writer.write(b"z" * 500_000)
    assert transport.get_write_buffer_size() > 4096
    await asyncio.wait_for(writer.drain(), 20)  # resumed by the core draining its buffer
    writer.write_eof()
    assert len(await asyncio.wait_for(reader.read(), 20)) == 500_000
    server.close()
