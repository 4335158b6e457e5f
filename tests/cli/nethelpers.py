"""Helpers of the tunnel and proxy tests: an HTTP server process, curl, CLI start lines."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from i2p_streaming.aio import Session, create_session
from i2p_streaming.data import Destination, b32_address_to_hash
from i2p_streaming.router import EmbeddedRouter
from tests.cli.helpers import finish, reachable, read_line, spawn

__all__ = [
    "CURL",
    "I2PSite",
    "TcpRecorder",
    "curl",
    "http_server",
    "listening_port",
    "start_cli",
    "stop",
]

CURL = shutil.which("curl") or "/usr/bin/curl"
needs_curl = pytest.mark.skipif(not os.path.exists(CURL), reason="needs curl")
#: Bound for "stops within 2 s" after SIGINT, with slack for a loaded machine.
SIGINT_BOUND = 3.0


def _clean_env() -> dict[str, str]:
    """The environment without proxy variables (curl must only use the proxy it is given)."""
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


async def curl(*args: str, timeout: float = 60.0) -> tuple[int, bytes, bytes]:
    """Run curl (silent, errors shown) with ``args``: ``(status, stdout, stderr)``."""
    proc = await asyncio.create_subprocess_exec(
        CURL,
        "-sS",
        "--max-time",
        str(int(timeout) - 5),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_clean_env(),
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out, err


async def http_server(folder: Path) -> tuple[asyncio.subprocess.Process, int]:
    """``python -m http.server`` on 127.0.0.1 and a free port serving ``folder``."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-u",
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        "--directory",
        str(folder),
        "0",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    line = await read_line(proc.stdout)
    match = re.search(r"port (\d+)", line)
    assert match, line
    return proc, int(match.group(1))


def listening_port(line: str) -> int:
    """The local port in a start line such as ``tunnel client 127.0.0.1:PORT -> ...``."""
    match = re.search(r"127\.0\.0\.1:(\d+)", line)
    assert match, line
    return int(match.group(1))


async def start_cli(router: EmbeddedRouter, *args: str) -> tuple[asyncio.subprocess.Process, str]:
    """Spawn a long-running command and return it with its first stderr line (log lines
    skipped); when the line
    names a b32 address (a server's own, a client's target), wait until the router has its
    lease set."""
    proc = await spawn(*args, router=router.address)
    line = await read_line(proc.stderr, timeout=30)
    while line[:2] == "20":  # a log line (-v): "2026-... INFO ..."
        line = await read_line(proc.stderr, timeout=30)
    match = re.search(r"([a-z2-7]{52}\.b32\.i2p)", line)
    if match:
        key = b32_address_to_hash(match.group(1))
        await router.wait_until(lambda r: r.find(key) is not None, timeout=20)
    return proc, line


async def stop(proc: asyncio.subprocess.Process) -> tuple[int, bytes]:
    """SIGINT, then the exit status and stderr (within :data:`SIGINT_BOUND`)."""
    if proc.returncode is None:
        proc.send_signal(2)
    status, _, err = await finish(proc, timeout=SIGINT_BOUND)
    return status, err


async def read_lines_until(
    proc: asyncio.subprocess.Process, needle: bytes, count: int, timeout: float = 20.0
) -> bytes:
    """Read ``proc``'s stderr until ``count`` lines containing ``needle`` came (or EOF, or
    ``timeout``); the bytes read (give them back to what later reads the rest)."""
    assert proc.stderr is not None
    stream = proc.stderr
    got: list[bytes] = []

    async def read() -> None:
        seen = 0
        while seen < count:
            line = await stream.readline()
            if not line:
                return
            got.append(line)
            seen += needle in line

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(read(), timeout)
    return b"".join(got)


class TcpRecorder:
    """A local TCP listener that counts the connections it accepts (and closes them)."""

    def __init__(self) -> None:
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> TcpRecorder:
        self._server = await asyncio.start_server(self._seen, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def _seen(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        writer.close()

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


class I2PSite:
    """An HTTP site on a session of its own (port 80): records each request head and body
    and answers ``page`` (``Content-Length`` framed, then CLOSE)."""

    def __init__(self, router: EmbeddedRouter, page: bytes) -> None:
        self._router = router
        self.page = page
        self.requests: list[tuple[bytes, bytes]] = []
        self._session: Session | None = None

    async def __aenter__(self) -> I2PSite:
        host, port = self._router.address
        self._session = await create_session(f"{host}:{port}")
        await self._session.start_server(self._serve, 80)
        await reachable(self._router, self._session)
        return self

    @property
    def b32(self) -> str:
        assert self._session is not None
        return self._session.b32

    @property
    def destination(self) -> Destination:
        assert self._session is not None
        return self._session.destination

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        match = re.search(rb"(?im)^content-length: *(\d+)", head)
        body = await reader.readexactly(int(match.group(1))) if match else b""
        self.requests.append((head, body))
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            b"Keep-Alive: timeout=5\r\nContent-Length: %d\r\n\r\n%s" % (len(self.page), self.page)
        )
        await writer.drain()
        writer.close()

    async def __aexit__(self, *exc: object) -> None:
        assert self._session is not None
        await self._session.close(timeout=1.0)
