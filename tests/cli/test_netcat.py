"""``connect`` / ``listen`` as real processes over the embedded router: bytes, half-close in
both directions, refusal and reset (exit 1), Ctrl-C (exit 130, no traceback)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from i2p_streaming.aio import create_session
from i2p_streaming.data import PrivateKeys, b32_address_to_hash
from i2p_streaming.router import EmbeddedRouter
from tests.cli.helpers import finish, reachable, read_line, spawn

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pipes and SIGINT: POSIX")

#: Bound for "stops within 2 s" after SIGINT, with slack for a loaded machine.
SIGINT_BOUND = 3.0


async def _listening(router: EmbeddedRouter, proc: asyncio.subprocess.Process) -> str:
    """The b32 a listen process prints, once the router can resolve it."""
    line = await read_line(proc.stderr)
    assert line.startswith("listening on "), line
    b32 = line.split()[2]
    key = b32_address_to_hash(b32)
    await router.wait_until(lambda r: r.find(key) is not None, timeout=20)
    return b32


async def _send(proc: asyncio.subprocess.Process, data: bytes) -> None:
    assert proc.stdin is not None
    proc.stdin.write(data)
    await proc.stdin.drain()
    proc.stdin.close()


async def _read_exactly(proc: asyncio.subprocess.Process, n: int) -> bytes:
    assert proc.stdout is not None
    return await asyncio.wait_for(proc.stdout.readexactly(n), 30)


async def test_connect_half_closes_first_and_both_directions_arrive(
    router: EmbeddedRouter, tmp_path: Path
) -> None:
    keys = PrivateKeys.generate()
    keys.save(tmp_path / "k.dat")
    router.register_name("site.i2p", keys.destination)
    listen = await spawn("listen", "80", "--keys", str(tmp_path / "k.dat"), router=router.address)
    assert await _listening(router, listen) == keys.destination.b32
    connect = await spawn("connect", "site.i2p", "80", router=router.address)
    request, reply = os.urandom(200_000), os.urandom(150_000)
    await _send(connect, request)
    # the listener has it all while its own stdin (the other direction) is still open
    assert await _read_exactly(listen, len(request)) == request
    await _send(listen, reply)
    status, out, err = await finish(connect)
    assert (status, err) == (0, b"")
    assert out == reply
    status, rest, err = await finish(listen)
    assert status == 0, err
    assert rest == b""


async def test_listen_half_closes_first(router: EmbeddedRouter) -> None:
    listen = await spawn("listen", "7", router=router.address)
    b32 = await _listening(router, listen)
    connect = await spawn(
        "-o", "i2p.streaming.profile=2", "connect", b32, "7", router=router.address
    )
    greeting, answer = b"hello from the listener\n" * 1000, os.urandom(70_000)
    await _send(listen, greeting)
    assert await _read_exactly(connect, len(greeting)) == greeting
    await _send(connect, answer)
    status, out, err = await finish(listen)
    assert status == 0, err
    assert out == answer
    status, out, err = await finish(connect)
    assert (status, out, err) == (0, b"", b"")


async def test_connect_refused_is_exit_1_in_one_line(router: EmbeddedRouter) -> None:
    host, port = router.address
    async with create_session(f"{host}:{port}") as peer:
        await reachable(router, peer)
        connect = await spawn("connect", peer.b32, "81", router=router.address)
        status, out, err = await finish(connect)
    assert status == 1
    assert out == b""
    text = err.decode()
    assert text.startswith("connect: ") and "refused" in text and text.count("\n") == 1


async def test_connect_reset_by_peer_is_exit_1(router: EmbeddedRouter) -> None:
    host, port = router.address
    got = asyncio.Event()

    async def reset_after_data(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(5)
        got.set()
        writer.transport.abort()

    async with create_session(f"{host}:{port}") as peer:
        await reachable(router, peer)
        await peer.start_server(reset_after_data, 9)
        connect = await spawn("connect", peer.b32, "9", router=router.address)
        assert connect.stdin is not None
        connect.stdin.write(b"hello")
        await connect.stdin.drain()
        await asyncio.wait_for(got.wait(), 20)
        status, _, err = await finish(connect)
    assert status == 1
    text = err.decode()
    assert text.startswith("connect: stream reset") and text.count("\n") == 1, text


async def test_connect_unknown_name_is_exit_2(router: EmbeddedRouter) -> None:
    connect = await spawn("connect", "nobody.i2p", "80", router=router.address)
    status, _, err = await finish(connect)
    assert (status, err.decode()) == (2, "connect: nobody.i2p: not found\n")


async def test_sigint_stops_connect_and_closes_its_stream(router: EmbeddedRouter) -> None:
    host, port = router.address
    streams: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    async with create_session(f"{host}:{port}") as peer:
        await reachable(router, peer)
        await peer.start_server(lambda r, w: streams.put_nowait((r, w)), 5)
        connect = await spawn("connect", peer.b32, "5", router=router.address)
        reader, writer = await asyncio.wait_for(streams.get(), 20)
        writer.write(b"ping\n")
        assert await _read_exactly(connect, 5) == b"ping\n"
        connect.send_signal(signal.SIGINT)
        status, _, err = await finish(connect, timeout=SIGINT_BOUND)
        assert status == 130
        assert b"Traceback" not in err
        try:  # the stream ends: CLOSE, or RESET when the session ends first
            rest: bytes | None = await asyncio.wait_for(reader.read(), 20)
        except ConnectionResetError:
            rest = None
        assert rest in (b"", None)


async def test_sigint_stops_a_waiting_listen(router: EmbeddedRouter) -> None:
    listen = await spawn("listen", "80", router=router.address)
    await _listening(router, listen)
    listen.send_signal(signal.SIGINT)
    status, out, err = await finish(listen, timeout=SIGINT_BOUND)
    assert (status, out, err) == (130, b"", b"")
    await router.wait_until(lambda r: r.stats().sessions == 0, timeout=10)


async def test_listen_keep_serves_streams_one_after_another(router: EmbeddedRouter) -> None:
    listen = await spawn("listen", "80", "--keep", router=router.address)
    b32 = await _listening(router, listen)
    await _send(listen, b"")  # stdin ends at once: every stream gets our CLOSE
    host, port = router.address
    async with create_session(f"{host}:{port}") as client:
        for i in range(3):
            reader, writer = await client.open_connection(b32, 80, timeout=20)
            writer.write(f"stream {i}\n".encode())
            writer.write_eof()
            assert await asyncio.wait_for(reader.read(), 20) == b""
            assert await read_line(listen.stdout) == f"stream {i}\n"
            writer.close()
    listen.send_signal(signal.SIGINT)
    status, _, err = await finish(listen, timeout=SIGINT_BOUND)
    assert status == 130
    assert b"Traceback" not in err
