"""Our ``tunnel client`` and ``proxy socks`` on a real i2pd (its I2CP port), in front of an
i2pd *server tunnel* (i2pd's own tunnels.conf section and streaming) that serves
``python -m http.server``: curl gets the page through both. The three destinations (i2pd's
server tunnel, our client's, our proxy's) are started at once: each waits seconds for i2pd's
tunnel thread."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from i2p_streaming.data import PrivateKeys
from tests.cli.helpers import read_line, spawn
from tests.cli.nethelpers import curl, http_server, listening_port, needs_curl, stop
from tests.support.i2pd import I2pdInstance
from tests.support.i2pd_console import listed_b32, wait_published
from tests.support.i2pd_tunnels import add_tunnel

pytestmark = [pytest.mark.i2pd, needs_curl]

TUNNEL = "cli-tunnel-site"
ZERO_HOP = ("-o", "inbound.length=0", "-o", "outbound.length=0")


@pytest.mark.timeout(180)
async def test_tunnel_client_and_socks_on_i2pd_reach_an_i2pd_server_tunnel(
    tmp_path: Path, own_i2pd: I2pdInstance
) -> None:
    inst = own_i2pd
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_bytes(b"<p>served by an i2pd server tunnel</p>\n")
    web, web_port = await http_server(www)
    procs: list[asyncio.subprocess.Process] = []
    try:
        keys = PrivateKeys.generate()
        keys.save(inst.datadir / "site.dat")  # i2pd reads keys = relative to its datadir
        add_tunnel(
            inst,
            TUNNEL,
            f"type = server\nhost = 127.0.0.1\nport = {web_port}\ninport = 80\n"
            "keys = site.dat\ninbound.length = 0\noutbound.length = 0\n",
        )
        b32 = keys.destination.b32
        router = inst.i2cp_address
        client = await spawn(
            *ZERO_HOP, "tunnel", "client", "127.0.0.1:0", f"{b32}:80", router=router
        )
        procs.append(client)
        socks = await spawn(*ZERO_HOP, "proxy", "socks", "--listen", "127.0.0.1:0", router=router)
        procs.append(socks)
        assert await asyncio.to_thread(listed_b32, inst, TUNNEL) == b32
        # all three at once; the server tunnel must be in i2pd's netdb before a client asks
        line, socks_line, _ = await asyncio.gather(
            read_line(client.stderr, 90),
            read_line(socks.stderr, 90),
            asyncio.to_thread(wait_published, inst, b32),
        )
        page = b"<p>served by an i2pd server tunnel</p>\n"
        status, out, err = await curl(
            "--noproxy", "*", f"http://127.0.0.1:{listening_port(line)}/", timeout=90
        )
        assert (status, out) == (0, page), (err, inst.log_tail())
        socks_at = f"127.0.0.1:{listening_port(socks_line)}"
        status, out, err = await curl("--socks5-hostname", socks_at, f"http://{b32}/", timeout=90)
        assert (status, out) == (0, page), (err, inst.log_tail())
    finally:
        for proc in procs:
            status, err = await stop(proc)
            assert status == 130 and b"Traceback" not in err, err
        web.kill()
        await web.wait()
