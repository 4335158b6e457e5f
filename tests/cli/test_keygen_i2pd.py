"""A keygen file loads in i2pd as a server tunnel's ``keys =`` with the b32 keyinfo prints."""

from __future__ import annotations

import contextlib
import html
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from i2p_streaming.cli.__main__ import main
from tests.support.i2pd import I2pdInstance, require_i2pd, start_i2pd, stop_i2pd

pytestmark = pytest.mark.i2pd

TUNNEL = "cli-keygen-server"


def _server_tunnel_b32(inst: I2pdInstance, timeout: float = 30.0) -> str:
    """The b32 the web console lists for TUNNEL, once i2pd has loaded it."""
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
        # Not a synchronisation sleep: a bounded wait on the process doubles as the poll
        # interval of the console (i2pd has no event for "tunnels reloaded").
        with contextlib.suppress(subprocess.TimeoutExpired):
            inst.process.wait(timeout=0.1)


@pytest.mark.timeout(120)
def test_keygen_file_loads_in_i2pd_with_the_same_b32(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inst = start_i2pd(require_i2pd(), tmp_path / "i2pd")
    try:
        # i2pd reads ``keys =`` relative to its data directory
        key_file = inst.datadir / "cli-keys.dat"
        assert main(["keygen", str(key_file), "--format", "i2pd"]) == 0
        capsys.readouterr()
        assert main(["keyinfo", str(key_file)]) == 0
        b32 = capsys.readouterr().out.splitlines()[0].removeprefix("b32: ")
        (inst.datadir / "tunnels.d" / "cli.conf").write_text(
            f"[{TUNNEL}]\ntype = server\nhost = 127.0.0.1\nport = 8080\nkeys = cli-keys.dat\n"
        )
        inst.process.send_signal(signal.SIGHUP)  # i2pd reloads its tunnel configuration
        assert _server_tunnel_b32(inst) == b32
    finally:
        stop_i2pd(inst)
