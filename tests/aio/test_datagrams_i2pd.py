"""Datagrams between two of our sessions through a real i2pd (zero-hop), all four kinds.

i2pd only forwards these payloads (it does not parse protocols 17-20 from I2CP clients), so
this checks that our formats, ports and protocol numbers survive its garlic path. Quirks:
a one-way flow may stall after the first message until the peer answers, and a fresh pair
may lose its first datagram; the client therefore resends until the reply comes.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from i2p_streaming.aio import DatagramEndpoint
from tests.support.i2pd import I2pdInstance
from tests.support.i2pd_sessions import open_sessions

pytestmark = [pytest.mark.i2pd, pytest.mark.timeout(120)]


async def serve_upper(ep: DatagramEndpoint, raw_peer: str) -> None:
    """Answer every datagram with its upper-cased payload."""
    while True:
        got = await ep.recv()
        await ep.send(got.data.upper(), got.sender or raw_peer, got.src_port)


async def ask(ep: DatagramEndpoint, payload: bytes, dest: str, port: int, tries: int = 20) -> bytes:
    """Send until an answer comes (each try waits 1.5 s)."""
    for _ in range(tries):
        await ep.send(payload, dest, port)
        with contextlib.suppress(TimeoutError):
            got = await ep.recv(timeout=1.5)
            return got.data
    raise TimeoutError(f"no answer to {payload!r} after {tries} tries")


async def test_all_four_kinds_through_i2pd(i2pd: I2pdInstance) -> None:
    async with open_sessions(i2pd, count=2) as (a, b):  # opened at once: each waits for i2pd
        for kind in ("repliable", "raw", "datagram2", "datagram3"):
            server = await b.open_datagram_endpoint(port=1000, kind=kind)
            client = await a.open_datagram_endpoint(port=2000, kind=kind)
            task = asyncio.create_task(serve_upper(server, a.b32))
            try:
                assert await ask(client, f"hello {kind}".encode(), b.b32, 1000) == (
                    f"HELLO {kind}".upper().encode()
                )
            finally:
                task.cancel()
                server.close()
                client.close()
        for session in (a, b):
            counters = session.datagrams.core.counters
            assert counters["bad_signature"] == counters["malformed"] == 0
            assert counters["sender_prelude"] == 0  # our own Datagram2s follow the spec
