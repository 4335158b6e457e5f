"""``connect -v`` shows a redrawn progress line when stderr is a terminal (a pty here), and
none in a pipe."""

from __future__ import annotations

import asyncio
import os
import pty
import sys

import pytest

from i2p_streaming.data import b32_address_to_hash
from i2p_streaming.router import EmbeddedRouter
from tests.cli.helpers import cli_env, read_line, spawn

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pty: POSIX")


async def test_connect_shows_progress_on_a_terminal_only(router: EmbeddedRouter) -> None:
    listen = await spawn("listen", "7", "--keep", router=router.address)
    line = await read_line(listen.stderr)
    b32 = line.split()[2]
    key = b32_address_to_hash(b32)
    await router.wait_until(lambda r: r.find(key) is not None, timeout=20)
    assert listen.stdin is not None and listen.stdout is not None
    listen.stdin.close()  # the listener sends nothing: each stream gets its CLOSE at once
    sink = asyncio.ensure_future(listen.stdout.read())  # what it receives
    data = os.urandom(300_000)

    master, slave = pty.openpty()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "i2p_streaming", "-v", "connect", b32, "7",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=slave,
            env=cli_env(router.address),
        )  # fmt: skip
        os.close(slave)
        slave = -1
        reading = asyncio.ensure_future(asyncio.to_thread(_drain, master))
        status, _, _ = await finish_with_input(proc, data)
        assert status == 0
        tty = await asyncio.wait_for(reading, 10)
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    assert "\rin+out" in tty and "300.00 kB" in tty

    piped = await spawn("-v", "connect", b32, "7", router=router.address)
    status, _, err = await finish_with_input(piped, data)
    assert status == 0
    assert b"in+out" not in err
    listen.terminate()
    assert await asyncio.wait_for(sink, 10) == data + data
    await asyncio.wait_for(listen.wait(), 10)


async def finish_with_input(
    proc: asyncio.subprocess.Process, data: bytes
) -> tuple[int, bytes, bytes]:
    out, err = await asyncio.wait_for(proc.communicate(data), 30)
    assert proc.returncode is not None
    return proc.returncode, out, err


def _drain(fd: int) -> str:
    """Everything written to the pty until its last writer closed it (EIO on Linux)."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")
