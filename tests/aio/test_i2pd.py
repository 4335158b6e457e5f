"""Two of our sessions talking through a real i2pd (zero-hop tunnels).

These belong to the interop subset (marker ``i2pd_versions``): each runs against the newest
i2pd and Debian stable's. The tests of one flavour share one pair of sessions (``pair``: a
fresh pair waits several seconds for i2pd's tunnels); each closes its server at its end.
Quirks per version: none seen in these tests on 2.56 or 2.59; on both, a fresh session may
lose its very first SYN (the connect retransmits it).
"""

from __future__ import annotations

import asyncio
import os

import pytest
import pytest_asyncio

from i2p_streaming.aio import Session
from tests.support.i2pd_sessions import KeptSessions

pytestmark = [
    pytest.mark.i2pd,
    pytest.mark.i2pd_versions,
    pytest.mark.timeout(110),
    pytest.mark.asyncio(loop_scope="module"),
]


@pytest_asyncio.fixture(loop_scope="module")
async def pair(kept_sessions: KeptSessions, i2pd_flavour: str) -> tuple[Session, Session]:
    """(client, server): two zero-hop sessions on this flavour's i2pd, kept for the module."""
    a, b = await kept_sessions.get(i2pd_flavour, count=2)
    return a, b


async def test_echo_half_close_and_ping_through_i2pd(pair: tuple[Session, Session]) -> None:
    a, b = pair
    half: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if writer.get_extra_info("local_port") == 2:
            writer.write(b"server first")
            writer.write_eof()
            half.set_result(await reader.read())
            return
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.write_eof()

    server = await b.start_server(handler, 0)
    try:
        # a fresh i2pd session may lose the very first SYN: connect retries cover that
        reader, writer = await a.open_connection(b.destination, 1, timeout=60)
        data = os.urandom(200_000)
        writer.write(data)
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 60) == data
        writer.close()

        reader, writer = await a.open_connection(b.b32, 2, timeout=60)
        assert await asyncio.wait_for(reader.read(), 30) == b"server first"
        writer.write(b"client after the server's CLOSE")
        writer.write_eof()
        assert await asyncio.wait_for(half, 30) == b"client after the server's CLOSE"
        writer.close()

        rtt = await a.ping(b.destination, timeout=30)
        assert 0 <= rtt < 30
    finally:
        server.close()


async def test_reset_both_ways_through_i2pd(pair: tuple[Session, Session]) -> None:
    """abort() sends a signed RESET: the server's reaches the client, then the client's the
    server; each side sees ConnectionResetError."""
    a, b = pair
    server_saw: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readexactly(5)
        if request == b"reset":  # the server resets
            writer.transport.abort()
            return
        writer.write(b"ready")  # the client will reset: wait for it
        try:
            await asyncio.wait_for(reader.read(), 30)
            server_saw.set_result(None)
        except ConnectionResetError as exc:
            server_saw.set_result(exc)

    server = await b.start_server(handler, 0)
    try:
        reader, writer = await a.open_connection(b.destination, 1, timeout=60)
        writer.write(b"reset")
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(), 30)

        reader, writer = await a.open_connection(b.destination, 1, timeout=60)
        writer.write(b"hello")
        assert await asyncio.wait_for(reader.readexactly(5), 30) == b"ready"
        writer.transport.abort()
        assert isinstance(await asyncio.wait_for(server_saw, 30), ConnectionResetError)
    finally:
        server.close()


async def test_hundred_concurrent_streams_through_i2pd(pair: tuple[Session, Session]) -> None:
    """100 streams open at once between two sessions, each echoes its own 20 kB."""
    streams = 100
    a, b = pair

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.write_eof()

    server = await b.start_server(echo, 0)
    try:
        # warm the path (LeaseSet lookup, first SYN) with one stream before the hundred
        reader, writer = await a.open_connection(b.destination, 1, timeout=60)
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 30) == b""
        writer.close()

        async def one(i: int) -> bool:
            data = os.urandom(20_000)
            reader, writer = await a.open_connection(b.destination, 1, timeout=60)
            writer.write(data)
            writer.write_eof()
            got = await asyncio.wait_for(reader.read(), 80)
            writer.close()
            return got == data

        results = await asyncio.gather(*(one(i) for i in range(streams)))
        assert results.count(True) == streams
    finally:
        server.close()
