"""The examples, run as a user would: the embedded router with a --hosts file, the FastAPI and
Flask eepsites under their names, the httpx and aiohttp clients fetching them by name."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from i2p_streaming.cli.keys import write_key_file
from i2p_streaming.data import PrivateKeys

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")) if p
    )
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Running:
    """A long-running example process whose output lines arrive on a queue."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(),
            cwd=ROOT,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """The first output line matching ``pattern`` (fails with the output so far)."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"no line matching {pattern!r}; output: {self.seen}")
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(5)
        self._pump_thread.join(5)  # it ends at the end of the output
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return code


def run_client(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[str]:
    """The router on a free port with fastapi.i2p and flask.i2p, both sites running; yields
    the router's HOST:PORT."""
    lines = []
    keyfiles = {}
    for name in ("fastapi", "flask"):
        keys = PrivateKeys.generate()
        keyfiles[name] = tmp_path / f"{name}.dat"
        write_key_file(keys, str(keyfiles[name]))
        lines.append(f"{name}.i2p={keys.destination.to_base64()}")
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("\n".join(lines) + "\n")
    router = Running(
        "-m", "i2p_streaming", "router", "--port", "0", "--hosts", str(hosts),
        "--status-interval", "0",
    )  # fmt: skip
    running = [router]
    try:
        address = router.wait_for(r"listening on (\S+:\d+)").group(1)
        for name in ("fastapi", "flask"):
            site = Running(
                str(EXAMPLES / f"{name}_eepsite.py"), "--router", address,
                "--keys", str(keyfiles[name]),
            )  # fmt: skip
            running.append(site)
            site.wait_for(r"serving http://\S+\.b32\.i2p/")
        yield address
    finally:
        codes = [proc.stop() for proc in reversed(running)]
    assert codes == [0, 0, 0], [p.seen for p in running]


def test_examples_against_the_embedded_router(sites: str) -> None:
    router = ["--router", sites]
    out = run_client(str(EXAMPLES / "httpx_client.py"), "http://fastapi.i2p/", *router)
    status, body = out.split("\n", 1)
    assert status == "200 OK"
    data = json.loads(body)
    assert data["hello"] == "from an I2P eepsite"
    assert data["you"].endswith(".b32.i2p") and data["client"][0] == data["you"]

    out = run_client(str(EXAMPLES / "httpx_client.py"), "--async", "http://flask.i2p/", *router)
    status, body = out.split("\n", 1)
    assert status == "200 OK"
    data = json.loads(body)
    assert data["hello"] == "from a Flask eepsite" and data["remote"] == data["you"]

    out = run_client(str(EXAMPLES / "aiohttp_client.py"), "http://fastapi.i2p/count?n=3", *router)
    assert out == "200 OK\n0\n1\n2\n\n"
    out = run_client(
        str(EXAMPLES / "aiohttp_client.py"), "http://fastapi.i2p/echo", "--ws", "hi", *router
    )
    assert out == "hi\n"
