"""``SyncSession.wrap``: a blocking view of an asyncio session on the caller's running loop,
used from worker threads; refused on the loop's own thread; ``close`` leaves the loop."""

from __future__ import annotations

import asyncio

import pytest

from i2p_streaming.aio import create_session
from i2p_streaming.router import EmbeddedRouter
from i2p_streaming.sync import SyncSession

pytestmark = pytest.mark.timeout(30)


def _echo_once(server: SyncSession, client: SyncSession) -> bytes:
    with server.listen(9) as listener, client.connect(server.b32, 9, timeout=10) as sock:
        conn, _ = listener.accept(timeout=10)
        with conn:
            sock.sendall(b"over the borrowed loop")
            sock.shutdown(1)
            conn.sendall(conn.recv(100))
        return sock.recv(100)


async def test_wrap_runs_blocking_calls_on_the_callers_loop() -> None:
    async with EmbeddedRouter("127.0.0.1", 0, seed=9) as router:
        host, port = router.address
        async with (
            create_session(f"{host}:{port}") as a,
            create_session(f"{host}:{port}") as b,
        ):
            server, client = SyncSession.wrap(a), SyncSession.wrap(b)
            assert server.loop is asyncio.get_running_loop()
            got = await asyncio.to_thread(_echo_once, server, client)
            assert got == b"over the borrowed loop"
            with pytest.raises(RuntimeError, match="loop thread"):
                client.resolve(server.b32)
            await asyncio.to_thread(client.close, timeout=1.0)
            assert b.is_closed and not a.is_closed
            assert asyncio.get_running_loop().is_running()
