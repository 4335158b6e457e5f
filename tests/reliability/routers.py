"""The router of a cell: the embedded router in this process, or as a subprocess to kill.

The subprocess is ``python -m i2p_streaming.cli router --port 0 ...`` with the cell's
impairments as options; its first line names the port. Run-time impairment changes need the
in-process router (the command has no control channel), SIGKILL needs the subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator

from i2p_streaming.router import EmbeddedRouter, Impairments

__all__ = ["RouterHandle", "start_router"]

_LISTENING = re.compile(rb"listening on ([0-9.]+):(\d+)")


class RouterHandle:
    """``address`` (``"host:port"``), the in-process :class:`EmbeddedRouter` (or None for a
    subprocess) and :meth:`kill` (SIGKILL of the subprocess)."""

    def __init__(
        self, address: str, router: EmbeddedRouter | None, proc: asyncio.subprocess.Process | None
    ) -> None:
        self.address = address
        self._router = router
        self._proc = proc

    @property
    def router(self) -> EmbeddedRouter:
        """The in-process router; raises ``TypeError`` for a subprocess."""
        if self._router is None:
            raise TypeError("the router runs as a subprocess: no run-time control but kill()")
        return self._router

    @property
    def in_process(self) -> bool:
        return self._router is not None

    def kill(self) -> None:
        """SIGKILL the router subprocess; raises ``TypeError`` for an in-process router."""
        if self._proc is None:
            raise TypeError("the router runs in this process: use router.stop()")
        with contextlib.suppress(ProcessLookupError):
            self._proc.send_signal(signal.SIGKILL)


def _cli_args(imp: Impairments, seed: int) -> list[str]:
    if imp.blackhole:
        raise ValueError("a blackhole from the start makes no transfer")
    args = ["--port", "0", "--seed", str(seed), "--status-interval", "1s"]
    for name in ("delay", "jitter", "reorder_delay"):
        args += [f"--{name.replace('_', '-')}", f"{getattr(imp, name)!r}"]
    for name in ("loss", "duplicate", "reorder", "corrupt"):
        args += [f"--{name}", f"{getattr(imp, name)!r}"]
    if imp.burst is not None:
        b = imp.burst
        args += ["--burst", f"{b.p_enter!r},{b.p_exit!r},{b.loss_good!r},{b.loss_bad!r}"]
    if imp.rate is not None:
        args += ["--rate", f"{int(imp.rate)}", "--queue", str(imp.queue_bytes)]
    return args


@contextlib.asynccontextmanager
async def start_router(
    impairments: Impairments, seed: int, *, subprocess: bool, start_timeout: float = 30.0
) -> AsyncIterator[RouterHandle]:
    """Start the router for a cell (in this process unless ``subprocess``) on 127.0.0.1 and a
    free port; stop (or kill) it on exit."""
    if not subprocess:
        async with EmbeddedRouter("127.0.0.1", 0, impairments=impairments, seed=seed) as router:
            host, port = router.address
            yield RouterHandle(f"{host}:{port}", router, None)
        return
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "i2p_streaming.cli",
        "router",
        *_cli_args(impairments, seed),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), start_timeout)
        found = _LISTENING.search(line)
        if found is None:
            raise RuntimeError(f"the router subprocess did not start: {line!r}")
        address = f"{found.group(1).decode()}:{found.group(2).decode()}"
        drain = asyncio.ensure_future(proc.stdout.read())  # keep its pipe from filling
        try:
            yield RouterHandle(address, None, proc)
        finally:
            drain.cancel()
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5.0)
            except TimeoutError:
                proc.kill()
                await proc.wait()
