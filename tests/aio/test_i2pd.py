"""Two of our sessions talking through a real i2pd (zero-hop tunnels)."""

from __future__ import annotations

import asyncio
import os

import pytest

from i2p_streaming.aio import ZERO_HOP, create_session
from tests.support.i2pd import I2pdInstance

pytestmark = [pytest.mark.i2pd, pytest.mark.timeout(110)]


def router(i2pd: I2pdInstance) -> str:
    host, port = i2pd.i2cp_address
    return f"{host}:{port}"


async def test_echo_half_close_and_ping_through_i2pd(i2pd: I2pdInstance) -> None:
    async with (
        create_session(router(i2pd), options=ZERO_HOP) as a,
        create_session(router(i2pd), options=ZERO_HOP) as b,
    ):
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

        await b.start_server(handler, 0)
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
