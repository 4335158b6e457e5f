"""The issue's acceptance path with every part a process: ``router --hosts FILE``, a site
(``serve DIR --keys``), ``proxy socks`` and ``proxy http``; curl fetches the page through
each proxy by the name from the hosts file and by b32. (``tunnel server`` in front of
``python -m http.server`` is tests/cli/test_tunnel.py's.)"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from i2p_streaming.aio import create_session
from i2p_streaming.data import PrivateKeys
from tests.cli.helpers import read_line, spawn
from tests.cli.nethelpers import curl, listening_port, needs_curl, stop

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="pipes and SIGINT: POSIX"),
    needs_curl,
]


async def _resolvable(router: tuple[str, int], b32: str) -> None:
    """The router process has the lease set of ``b32``: ``serve`` published it before its
    session was ready, so before it printed its line (one lookup, no polling)."""
    async with create_session(f"{router[0]}:{router[1]}") as session:
        assert (await session.resolve(b32, timeout=10)).b32 == b32


async def _started(*args: str, router: tuple[str, int]) -> tuple[asyncio.subprocess.Process, str]:
    proc = await spawn(*args, router=router)
    return proc, await read_line(proc.stderr, 30)


@pytest.mark.timeout(180)
async def test_socks_and_http_proxy_fetch_by_hosts_file_name_and_b32(tmp_path: Path) -> None:
    keys = PrivateKeys.generate()
    keys.save(tmp_path / "site.dat")
    (tmp_path / "hosts.txt").write_text(f"# test names\nsite.i2p={keys.destination.to_base64()}\n")
    www = tmp_path / "www"
    www.mkdir()
    blob = os.urandom(200_000)
    pages = {"/": b"<p>eepsite</p>\n", "/blob.bin": blob}
    (www / "index.html").write_bytes(pages["/"])
    (www / "blob.bin").write_bytes(blob)
    procs: list[asyncio.subprocess.Process] = []
    try:
        router_proc = await spawn("router", "--port", "0", "--hosts", str(tmp_path / "hosts.txt"))
        procs.append(router_proc)
        line = await read_line(router_proc.stdout, 30)
        match = re.match(r"I2CP router listening on ([\d.]+):(\d+)", line)
        assert match, line
        router = (match.group(1), int(match.group(2)))
        server = await spawn("serve", str(www), "--keys", str(tmp_path / "site.dat"), router=router)
        procs.append(server)
        line = await read_line(server.stdout, 30)
        assert line == f"serving {www} at http://{keys.destination.b32}/ (port 80)\n", line
        socks, socks_line = await _started(
            "proxy", "socks", "--listen", "127.0.0.1:0", router=router
        )
        procs.append(socks)
        http, http_line = await _started("proxy", "http", "--listen", "127.0.0.1:0", router=router)
        procs.append(http)
        await _resolvable(router, keys.destination.b32)
        socks_at = f"127.0.0.1:{listening_port(socks_line)}"
        http_at = f"http://127.0.0.1:{listening_port(http_line)}"
        for host in ("site.i2p", keys.destination.b32):
            for how in (("--socks5-hostname", socks_at), ("-x", http_at)):
                for path, page in pages.items():
                    status, out, err = await curl(*how, f"http://{host}{path}")
                    assert (status, out) == (0, page), (how, host, path, err)
    finally:
        for proc in reversed(procs):
            status, err = await stop(proc)
            assert status in (0, 130), err
            assert b"Traceback" not in err
