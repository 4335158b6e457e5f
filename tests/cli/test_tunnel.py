"""``tunnel client`` / ``tunnel server`` as real processes over the embedded router: curl
through both in front of ``python -m http.server`` (one and 50 at once), half-close in both
directions, Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

import pytest

from i2p_streaming.aio import create_session
from i2p_streaming.cli.tunnel import ClientTunnel
from i2p_streaming.data import PrivateKeys
from i2p_streaming.router import EmbeddedRouter
from tests.cli.helpers import reachable
from tests.cli.nethelpers import (
    curl,
    http_server,
    listening_port,
    needs_curl,
    read_lines_until,
    start_cli,
    stop,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pipes and SIGINT: POSIX")


async def _tunnels(
    router: EmbeddedRouter, tmp_path: Path, target_port: int
) -> tuple[asyncio.subprocess.Process, asyncio.subprocess.Process, int]:
    """A server tunnel (site.i2p port 80) to ``target_port`` and a client tunnel to it; the
    processes and the client's local port."""
    keys = PrivateKeys.generate()
    keys.save(tmp_path / "site.dat")
    router.register_name("site.i2p", keys.destination)
    server, line = await start_cli(
        router,
        "tunnel",
        "server",
        "80",
        f"127.0.0.1:{target_port}",
        "--keys",
        str(tmp_path / "site.dat"),
    )
    assert line == f"tunnel server {keys.destination.b32} port 80 -> 127.0.0.1:{target_port}\n"
    client, line = await start_cli(router, "-v", "tunnel", "client", "127.0.0.1:0", "site.i2p:80")
    assert line.startswith("tunnel client 127.0.0.1:") and line.endswith(" -> site.i2p:80\n")
    return server, client, listening_port(line)


@needs_curl
@pytest.mark.timeout(180)
async def test_curl_through_client_and_server_tunnels(
    router: EmbeddedRouter, tmp_path: Path
) -> None:
    site = tmp_path / "www"
    site.mkdir()
    page = b"<html><body>hello over I2P</body></html>\n"
    (site / "index.html").write_bytes(page)
    blob = os.urandom(30_000)
    (site / "blob.bin").write_bytes(blob)
    web, web_port = await http_server(site)
    server, client, port = await _tunnels(router, tmp_path, web_port)
    try:
        status, out, err = await curl("--noproxy", "*", f"http://127.0.0.1:{port}/")
        assert (status, err) == (0, b"")
        assert out == page
        many = [
            curl(
                "--noproxy",
                "*",
                "-o",
                str(tmp_path / f"out{i}"),
                f"http://127.0.0.1:{port}/blob.bin",
            )
            for i in range(50)
        ]
        results = await asyncio.gather(*many)
        assert [r[0] for r in results] == [0] * 50, [r[2] for r in results if r[0]]
        for i in range(50):
            assert (tmp_path / f"out{i}").read_bytes() == blob
        # curl is done once it has the body; the tunnel logs a connection when both ends
        # closed (our CLOSE follows the ACK of the data), so wait for the lines first
        early = await read_lines_until(client, b"-> site.i2p:80: closed", 51)
    finally:
        status_c, err_c = await stop(client)
        status_s, err_s = await stop(server)
        web.kill()
        await web.wait()
    assert (status_c, status_s) == (130, 130)
    assert b"Traceback" not in err_c + err_s
    # -v: one line per connection on the client side (51 of them), each closed cleanly
    err_c = early + err_c
    ended = [line for line in err_c.decode().splitlines() if "-> site.i2p:80: closed" in line]
    assert len(ended) == 51, err_c.decode()[-2000:]


@pytest.mark.timeout(120)
async def test_half_close_passes_through_in_both_directions(
    router: EmbeddedRouter, tmp_path: Path
) -> None:
    got: asyncio.Queue[bytes] = asyncio.Queue()
    request, reply = os.urandom(100_000), os.urandom(80_000)

    seen = 0
    greeting = b"hello, then EOF from the target\n" * 500

    async def target(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal seen
        seen += 1
        if seen == 1:  # the client half-closes first: read to EOF, then answer
            await got.put(await reader.read())
            writer.write(reply)
            await writer.drain()
        else:  # the target speaks first and half-closes, then reads to EOF
            writer.write(greeting)
            writer.write_eof()
            await got.put(await reader.read())
        writer.close()

    tcp = await asyncio.start_server(target, "127.0.0.1", 0)
    target_port = int(tcp.sockets[0].getsockname()[1])
    server, client, port = await _tunnels(router, tmp_path, target_port)
    try:
        # 1. the TCP client sends and half-closes; the target sees EOF after all of it and
        # its answer still comes back
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        writer.write_eof()
        assert await asyncio.wait_for(got.get(), 30) == request
        assert await asyncio.wait_for(reader.read(), 30) == reply
        writer.close()
        # 2. the target half-closes first (the client reads EOF) and still gets our data
        # sent after that EOF
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(reader.read(), 30) == greeting
        assert got.empty()
        writer.write(request)
        writer.write_eof()
        assert await asyncio.wait_for(got.get(), 30) == request
        writer.close()
    finally:
        status_c, err_c = await stop(client)
        status_s, err_s = await stop(server)
        tcp.close()
    assert (status_c, status_s) == (130, 130), (err_c, err_s)


async def test_client_tunnel_serves_at_most_max_conns(router: EmbeddedRouter) -> None:
    """In process: with ``max_conns=1`` a second TCP connection is closed at once while the
    first one is served; once it ended a new one is served again."""
    host, port = router.address
    streams: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()
    async with (
        create_session(f"{host}:{port}") as peer,
        create_session(f"{host}:{port}") as own,
    ):
        await reachable(router, peer)
        await peer.start_server(lambda r, w: streams.put_nowait(w), 5)
        tunnel = ClientTunnel(own, ("127.0.0.1", 0), peer.b32, 5, max_conns=1)
        _, local = await tunnel.start()
        try:
            r1, w1 = await asyncio.open_connection("127.0.0.1", local)
            remote = await asyncio.wait_for(streams.get(), 20)
            remote.write(b"first\n")
            assert await asyncio.wait_for(r1.readline(), 20) == b"first\n"
            r2, w2 = await asyncio.open_connection("127.0.0.1", local)
            with contextlib.suppress(ConnectionResetError):  # closed without a stream
                assert await asyncio.wait_for(r2.read(), 20) == b""
            assert streams.empty()
            w2.close()
            remote.close()  # the first connection ends (CLOSE, then our FIN)
            assert await asyncio.wait_for(r1.read(), 20) == b""
            w1.close()
            await asyncio.wait_for(tunnel.wait_idle(), 20)
            r3, w3 = await asyncio.open_connection("127.0.0.1", local)
            again = await asyncio.wait_for(streams.get(), 20)
            again.write(b"third\n")
            assert await asyncio.wait_for(r3.readline(), 20) == b"third\n"
            w3.close()
        finally:
            await tunnel.close()
