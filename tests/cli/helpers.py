"""Running ``python -m i2p_streaming`` as a subprocess, reading its output with timeouts."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import i2p_streaming
from i2p_streaming.aio import Session
from i2p_streaming.data import Destination, PrivateKeys
from i2p_streaming.router import EmbeddedRouter

__all__ = ["SRC", "cli_env", "dash_destination", "finish", "reachable", "read_line", "spawn"]

SRC = str(Path(i2p_streaming.__file__).resolve().parent.parent)


def cli_env(router: tuple[str, int] | None = None) -> dict[str, str]:
    """The test environment plus ``PYTHONPATH`` (this source tree) and ``I2CP_ROUTER``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("I2CP_ROUTER", None)
    if router is not None:
        env["I2CP_ROUTER"] = f"{router[0]}:{router[1]}"
    return env


async def spawn(
    *args: str,
    router: tuple[str, int] | None = None,
    stdin: int | None = None,
    cwd: Path | None = None,
) -> asyncio.subprocess.Process:
    """Start ``python -m i2p_streaming ARGS`` (in ``cwd``, default ours) with pipes for
    stdin, stdout and stderr."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "i2p_streaming",
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is None else stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(router),
        cwd=cwd,
    )


async def read_line(stream: asyncio.StreamReader | None, timeout: float = 20.0) -> str:
    """The next line of ``stream`` (TimeoutError after ``timeout``)."""
    assert stream is not None
    return (await asyncio.wait_for(stream.readline(), timeout)).decode()


async def finish(
    proc: asyncio.subprocess.Process, timeout: float = 20.0
) -> tuple[int, bytes, bytes]:
    """Wait for the exit (killing it after ``timeout``): ``(status, stdout, stderr)``."""
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out, err


async def reachable(router: EmbeddedRouter, session: Session) -> str:
    """Wait until the router has the session's lease set (lookups by b32 find it); its b32."""
    key = session.destination.hash
    await router.wait_until(lambda r: r.find(key) is not None, timeout=20)
    return session.b32


def dash_destination(first: str = "-") -> Destination:
    """A fresh destination whose base64 starts with ``first`` (``-`` in one case of 64: argparse
    takes such a word for an option unless told otherwise); ``first`` may be two letters."""
    text = PrivateKeys.generate().destination.to_base64()
    return Destination.from_base64(first + text[len(first) :])
