"""``proxy socks`` as a process over the embedded router: curl --socks5-hostname and
--socks4a fetch a page behind a tunnel server by b32 and by name; everything outside I2P is
refused with the right reply code and no connection is attempted."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import sys
from pathlib import Path

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.router import EmbeddedRouter
from tests.cli.nethelpers import (
    TcpRecorder,
    curl,
    http_server,
    listening_port,
    needs_curl,
    start_cli,
    stop,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pipes and SIGINT: POSIX")


@needs_curl
@pytest.mark.timeout(120)
async def test_curl_through_socks_by_b32_and_name_and_clearnet_refused(
    router: EmbeddedRouter, tmp_path: Path
) -> None:
    site = tmp_path / "www"
    site.mkdir()
    (site / "index.html").write_bytes(b"socks page\n")
    web, web_port = await http_server(site)
    keys = PrivateKeys.generate()
    keys.save(tmp_path / "site.dat")
    router.register_name("site.i2p", keys.destination)
    b32 = keys.destination.b32
    server, _ = await start_cli(
        router,
        "tunnel",
        "server",
        "80",
        f"127.0.0.1:{web_port}",
        "--keys",
        str(tmp_path / "site.dat"),
    )
    proxy, line = await start_cli(router, "proxy", "socks", "--listen", "127.0.0.1:0")
    assert line.startswith("proxy socks listening on 127.0.0.1:"), line
    socks = f"127.0.0.1:{listening_port(line)}"
    try:
        for how in ("--socks5-hostname", "--socks4a"):
            for host in ("site.i2p", b32):
                status, out, err = await curl(how, socks, f"http://{host}/")
                assert (status, out) == (0, b"socks page\n"), (how, host, err)
        async with TcpRecorder() as local:
            for how, host in [
                ("--socks5-hostname", "127.0.0.1"),  # an IP address: refused (0x02)
                ("--socks5-hostname", "localhost"),  # a name outside I2P: refused (0x02)
                ("--socks5", "localhost"),  # resolved by curl, sent as an IP: refused
                ("--socks4", "localhost"),  # plain SOCKS4 (an IP): rejected
                ("--socks4a", "localhost"),  # SOCKS4a name outside I2P: rejected
            ]:
                status, out, err = await curl(how, socks, f"http://{host}:{local.port}/")
                assert status != 0 and out == b"", (how, host)
            status, _, err = await curl("--socks5-hostname", socks, "http://nobody.i2p/")
            assert status != 0
            assert local.accepted == 0
    finally:
        status_p, err_p = await stop(proxy)
        status_s, _ = await stop(server)
        web.kill()
        await web.wait()
    assert (status_p, status_s) == (130, 130)
    assert b"Traceback" not in err_p


async def _socks5(
    port: int, request: bytes, methods: bytes = b"\x00", reply_len: int | None = None
) -> bytes:
    """Greeting with ``methods`` and (if a method was chosen) ``request``: the replies
    (``reply_len`` bytes after the method choice, or all until the proxy closes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(bytes([5, len(methods)]) + methods)
        choice = await asyncio.wait_for(reader.readexactly(2), 20)
        if choice == b"\x05\x02":
            writer.write(b"\x01\x04user\x04pass")
            choice += await asyncio.wait_for(reader.readexactly(2), 20)
        if choice[1:2] == b"\xff":
            return choice
        writer.write(request)
        rest = reader.read() if reply_len is None else reader.readexactly(reply_len)
        return choice + await asyncio.wait_for(rest, 30)
    finally:
        writer.close()


def _connect(host: bytes, port: int, command: int = 1) -> bytes:
    return bytes([5, command, 0, 3, len(host)]) + host + struct.pack("!H", port)


@pytest.mark.timeout(120)
async def test_socks_reply_codes(router: EmbeddedRouter, tmp_path: Path) -> None:
    keys = PrivateKeys.generate()
    keys.save(tmp_path / "k.dat")
    router.register_name("echo.i2p", keys.destination)
    # a listen process on port 7 of echo.i2p: a stream there is accepted, others refused
    listen, _ = await start_cli(router, "listen", "7", "--keys", str(tmp_path / "k.dat"))
    proxy, line = await start_cli(router, "proxy", "socks", "--listen", "127.0.0.1:0")
    port = listening_port(line)
    ok = b"\x05\x00\x00\x01" + bytes(6)
    try:
        # not SOCKS, a greeting cut short, a SOCKS4a name without its end: closed, no reply
        for junk in (
            b"GET / HTTP/1.1\r\n\r\n",
            b"\x05\x03\x00",
            b"\x04\x01\x00\x50\x00\x00\x00\x01u\x00x",
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(junk)
            writer.write_eof()
            with contextlib.suppress(ConnectionResetError):
                assert await asyncio.wait_for(reader.read(), 30) == b""
            writer.close()
        refused = {
            "ipv4": bytes([5, 1, 0, 1, 127, 0, 0, 1, 0, 80]),
            "ipv6": bytes([5, 1, 0, 4]) + bytes(15) + b"\x01\x00\x50",
            "clearnet name": _connect(b"example.com", 80),
            "unknown name": _connect(b"nobody.i2p", 80),
            "closed port": _connect(b"echo.i2p", 8),
            "bind": _connect(b"echo.i2p", 7, command=2),
            "address type": bytes([5, 1, 0, 9, 0, 80]),
        }
        codes = {name: (await _socks5(port, req))[2:4] for name, req in refused.items()}
        assert codes == {
            "ipv4": b"\x05\x02",
            "ipv6": b"\x05\x02",
            "clearnet name": b"\x05\x02",
            "unknown name": b"\x05\x04",
            "closed port": b"\x05\x05",
            "bind": b"\x05\x07",
            "address type": b"\x05\x08",
        }
        assert await _socks5(port, b"", methods=b"\x01") == b"\x05\xff"  # GSSAPI only
        # username/password (any) then CONNECT: granted, and the bytes reach the listener
        reply = await _socks5(
            port, _connect(b"echo.i2p", 7) + b"hello", methods=b"\x02", reply_len=10
        )
        assert reply == b"\x05\x02\x01\x00" + ok
        assert listen.stdout is not None
        assert await asyncio.wait_for(listen.stdout.readexactly(5), 20) == b"hello"
        # SOCKS4 with an IP address is rejected (0x5B), SOCKS4a to a closed port too
        for request in (
            b"\x04\x01\x00\x50\x7f\x00\x00\x01user\x00",
            b"\x04\x01\x00\x08\x00\x00\x00\x01\x00echo.i2p\x00",
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            assert await asyncio.wait_for(reader.read(), 30) == b"\x00\x5b" + bytes(6)
            writer.close()
    finally:
        status, err = await stop(proxy)
        await stop(listen)
    assert status == 130
    assert b"Traceback" not in err
