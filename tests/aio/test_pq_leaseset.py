"""Sessions publishing ML-KEM hybrid LeaseSets (``i2cp.leaseSetEncType=6,4``) are reachable.

On the embedded router; through i2pd (newest, 2.59: a PQ build) by another of our sessions and
by i2pd's own streaming (SAM STREAM CONNECT). i2pd <= 2.57 mis-loads type-6 private keys from
I2CP (they work from 2.58 on, built with OpenSSL >= 3.5), so the i2pd tests need 2.58+. The two
i2pd tests share one pair of sessions (a plain one and a PQ one: each fresh destination waits
seconds for i2pd's tunnels), kept on the module's event loop.
"""

from __future__ import annotations

import asyncio
import os

import pytest
import pytest_asyncio

from i2p_streaming.aio import ZERO_HOP, Session, create_session
from tests.streaming.i2pd_peer import PeerThread, exchange
from tests.support.embedded import RouterTarget
from tests.support.i2pd import I2pdInstance
from tests.support.i2pd_sessions import KeptSessions
from tests.support.sam import SAMSession

PQ = {**ZERO_HOP, "i2cp.leaseSetEncType": "6,4"}
ON_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.write_eof()


def address(host_port: tuple[str, int]) -> str:
    return f"{host_port[0]}:{host_port[1]}"


def needs_pq_i2pd(i2pd: I2pdInstance) -> None:
    if tuple(int(p) for p in i2pd.version.split(".")[:2]) < (2, 58):
        pytest.skip(f"i2pd {i2pd.version} cannot load ML-KEM lease-set keys from I2CP (2.58+)")


async def round_trip(client: Session, server: Session, size: int) -> None:
    listening = await server.start_server(echo, 0)
    try:
        reader, writer = await client.open_connection(server.destination, 1, timeout=60)
        data = os.urandom(size)
        writer.write(data)
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 60) == data
        writer.close()
    finally:
        listening.close()


@pytest_asyncio.fixture(loop_scope="module")
async def plain_and_pq(kept_sessions: KeptSessions, i2pd: I2pdInstance) -> tuple[Session, Session]:
    """(a zero-hop session, a PQ one) on the newest i2pd (2.58+), kept for the module."""
    needs_pq_i2pd(i2pd)
    plain, pq = await kept_sessions.get("newest", ZERO_HOP, PQ)
    return plain, pq


@pytest.mark.timeout(30)
async def test_pq_session_on_the_embedded_router(router: RouterTarget) -> None:
    async with (
        create_session(address(router.i2cp_address)) as a,
        create_session(address(router.i2cp_address), options=PQ) as b,
    ):
        await round_trip(a, b, 100_000)


@pytest.mark.i2pd
@pytest.mark.timeout(110)
@ON_MODULE_LOOP
async def test_pq_session_reachable_by_ours_through_i2pd(
    plain_and_pq: tuple[Session, Session],
) -> None:
    a, b = plain_and_pq
    await round_trip(a, b, 200_000)


@pytest.mark.i2pd
@pytest.mark.timeout(110)
@ON_MODULE_LOOP
async def test_pq_session_reachable_by_i2pd_streaming(
    plain_and_pq: tuple[Session, Session], sam_session: SAMSession
) -> None:
    _, ours = plain_and_pq
    server = await ours.start_server(echo, 0)
    try:
        data = os.urandom(100_000)
        dest = ours.destination.to_base64()
        peer = PeerThread("sam-pq", lambda: exchange(sam_session, dest, 0, data, timeout=100))
        assert await peer.start().wait(100) == data
    finally:
        server.close()
