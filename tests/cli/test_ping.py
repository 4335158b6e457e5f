"""``ping``: reply lines, the summary, exit status, Ctrl-C; the loop with a fake session."""

from __future__ import annotations

import asyncio
import io
import re
import signal
import sys
from typing import Any, cast

import pytest

from i2p_streaming.aio import Session, create_session
from i2p_streaming.cli.ping import PingStats, ping_loop
from i2p_streaming.data import PrivateKeys
from i2p_streaming.router import EmbeddedRouter
from tests.cli.helpers import finish, reachable, read_line, spawn

REPLY = re.compile(r"^reply from (\S+): seq=(\d+) time=(\d+\.\d{3}) ms$")


async def test_ping_prints_replies_and_summary(router: EmbeddedRouter) -> None:
    host, port = router.address
    async with create_session(f"{host}:{port}") as peer:
        await reachable(router, peer)
        router.register_name("peer.i2p", peer.destination)
        proc = await spawn("ping", "-c", "3", "-i", "20ms", "peer.i2p", router=router.address)
        status, out, err = await finish(proc)
    assert (status, err) == (0, b"")
    lines = out.decode().splitlines()
    assert lines[0] == f"PING {peer.b32}"
    replies = [REPLY.match(line) for line in lines[1:4]]
    assert all(replies)
    assert [(m.group(1), m.group(2)) for m in replies if m] == [
        (peer.b32, str(i)) for i in (1, 2, 3)
    ]
    assert lines[4] == f"--- {peer.b32} ping statistics ---"
    assert lines[5] == "3 sent, 3 received, 0% loss"
    assert re.fullmatch(r"rtt min/avg/max = [\d.]+/[\d.]+/[\d.]+ ms", lines[6])
    assert len(lines) == 7


async def test_ping_without_replies_is_exit_1(router: EmbeddedRouter) -> None:
    gone = PrivateKeys.generate().destination  # a name for a destination nobody runs
    router.register_name("gone.i2p", gone)
    proc = await spawn(
        "ping", "-c", "2", "-W", "200ms", "-i", "10ms", "gone.i2p", router=router.address
    )
    status, out, _ = await finish(proc)
    lines = out.decode().splitlines()
    assert status == 1
    assert lines[1] == f"no reply from {gone.b32}: seq=1 (timeout 0.2 s)"
    assert lines[2] == f"no reply from {gone.b32}: seq=2 (timeout 0.2 s)"
    assert lines[4] == "2 sent, 0 received, 100% loss"
    assert len(lines) == 5


async def test_ping_unknown_name_is_exit_2(router: EmbeddedRouter) -> None:
    proc = await spawn("ping", "-c", "1", "nobody.i2p", router=router.address)
    status, out, err = await finish(proc)
    assert (status, out, err.decode()) == (2, b"", "ping: nobody.i2p: not found\n")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
async def test_sigint_prints_the_summary_and_exits_130(router: EmbeddedRouter) -> None:
    host, port = router.address
    async with create_session(f"{host}:{port}") as peer:
        await reachable(router, peer)
        proc = await spawn("ping", "-i", "50ms", peer.b32, router=router.address)
        assert (await read_line(proc.stdout)).startswith("PING ")
        assert REPLY.match((await read_line(proc.stdout)).rstrip("\n"))
        proc.send_signal(signal.SIGINT)
        status, out, err = await finish(proc, timeout=3.0)
    assert status == 130
    assert b"Traceback" not in err
    summary = re.search(rb"\n(\d+) sent, (\d+) received, \d+% loss\n", out)
    assert summary is not None, out
    sent, received = int(summary.group(1)), int(summary.group(2))
    assert received >= 1
    assert sent - received in (0, 1)  # the ping in flight at SIGINT counts as sent


class _FakeSession:
    """session.ping answers from a script: a float RTT or TimeoutError."""

    def __init__(self, script: list[float | None]) -> None:
        self.script = script
        self.calls: list[float] = []

    async def ping(self, dest: Any, *, timeout: float = 30.0) -> float:
        self.calls.append(timeout)
        rtt = self.script.pop(0)
        if rtt is None:
            raise TimeoutError("no answer")
        return rtt


async def test_ping_loop_counts_and_formats() -> None:
    dest = PrivateKeys.generate().destination
    fake = _FakeSession([0.010, None, 0.030])
    out = io.StringIO()
    stats = PingStats()
    await ping_loop(cast(Session, fake), dest, stats, count=3, interval=0.0, timeout=0.5, out=out)
    assert fake.calls == [0.5, 0.5, 0.5]
    assert out.getvalue().splitlines() == [
        f"reply from {dest.b32}: seq=1 time=10.000 ms",
        f"no reply from {dest.b32}: seq=2 (timeout 0.5 s)",
        f"reply from {dest.b32}: seq=3 time=30.000 ms",
    ]
    assert stats.summary("x")[1:] == [
        "3 sent, 2 received, 33% loss",
        "rtt min/avg/max = 10.000/20.000/30.000 ms",
    ]
    assert PingStats().summary("x")[1:] == ["0 sent, 0 received, 0% loss"]


async def test_ping_loop_is_cancellable_between_pings() -> None:
    dest = PrivateKeys.generate().destination
    fake = _FakeSession([0.001] * 100)
    stats = PingStats()
    task = asyncio.ensure_future(
        ping_loop(
            cast(Session, fake),
            dest,
            stats,
            count=None,
            interval=60.0,
            timeout=1.0,
            out=io.StringIO(),
        )
    )
    while stats.sent == 0:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (stats.sent, stats.received) == (1, 1)
