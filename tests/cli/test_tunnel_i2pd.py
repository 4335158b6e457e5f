"""Our ``tunnel client`` and ``proxy socks`` on a real i2pd (its I2CP port), in front of an
i2pd *server tunnel* (i2pd's own tunnels.conf section and streaming) that serves
``python -m http.server``: curl gets the page through both."""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from i2p_streaming.data import PrivateKeys
from tests.cli.helpers import read_line, spawn
from tests.cli.nethelpers import curl, http_server, listening_port, needs_curl, stop
from tests.support.i2pd import I2pdInstance, require_i2pd, start_i2pd, stop_i2pd

pytestmark = [pytest.mark.i2pd, needs_curl]

TUNNEL = "cli-tunnel-site"
ZERO_HOP = ("-o", "inbound.length=0", "-o", "outbound.length=0")


def _listed(inst: I2pdInstance, timeout: float = 30.0) -> str:
    """The b32 i2pd's web console lists for TUNNEL, once it has loaded it."""
    url = f"http://{inst.host}:{inst.http_port}/?page=i2p_tunnels"
    pattern = re.compile(rf">{TUNNEL}</a>\s*&#8658;\s*([a-z2-7]{{52}}\.b32\.i2p):")
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(url, timeout=5) as reply:
            found = pattern.search(html.unescape(reply.read().decode()).replace("⇒", "&#8658;"))
        if found:
            return found.group(1)
        assert inst.alive(), inst.log_tail()
        assert time.monotonic() < deadline, f"i2pd did not list {TUNNEL}\n{inst.log_tail()}"
        # a bounded wait on the process is the console's poll interval (i2pd has no event
        # for "tunnels reloaded"), as in test_keygen_i2pd
        with contextlib.suppress(subprocess.TimeoutExpired):
            inst.process.wait(timeout=0.1)


@pytest.mark.timeout(180)
async def test_tunnel_client_and_socks_on_i2pd_reach_an_i2pd_server_tunnel(
    tmp_path: Path,
) -> None:
    inst = start_i2pd(require_i2pd(), tmp_path / "i2pd")
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_bytes(b"<p>served by an i2pd server tunnel</p>\n")
    web, web_port = await http_server(www)
    procs: list[asyncio.subprocess.Process] = []
    try:
        keys = PrivateKeys.generate()
        keys.save(inst.datadir / "site.dat")  # i2pd reads keys = relative to its datadir
        (inst.datadir / "tunnels.d" / "site.conf").write_text(
            f"[{TUNNEL}]\ntype = server\nhost = 127.0.0.1\nport = {web_port}\ninport = 80\n"
            "keys = site.dat\ninbound.length = 0\noutbound.length = 0\n"
        )
        inst.process.send_signal(signal.SIGHUP)  # i2pd reloads its tunnels
        b32 = await asyncio.to_thread(_listed, inst)
        assert b32 == keys.destination.b32
        router = inst.i2cp_address
        client = await spawn(
            *ZERO_HOP, "tunnel", "client", "127.0.0.1:0", f"{b32}:80", router=router
        )
        procs.append(client)
        line = await read_line(client.stderr, 90)
        socks = await spawn(*ZERO_HOP, "proxy", "socks", "--listen", "127.0.0.1:0", router=router)
        procs.append(socks)
        socks_line = await read_line(socks.stderr, 90)
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
        stop_i2pd(inst)
