"""``i2p-streaming router``: as a subprocess (SIGINT -> exit 0) and in-process (arguments)."""

from __future__ import annotations

import argparse
import asyncio
import io
import signal
import socket
import sys

import pytest

from i2p_streaming.aio import I2CPClient
from i2p_streaming.cli import router as cli_router
from i2p_streaming.cli.__main__ import build_parser, main
from i2p_streaming.i2cp import PROTO_RAW
from i2p_streaming.router import Burst, EmbeddedRouter, Impairments, RouterStats
from i2p_streaming.router.impairment import Counters


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
async def test_cli_router_subprocess_serves_and_stops_on_sigint() -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "i2p_streaming.cli",
        "router",
        "--port",
        str(port),
        "--delay",
        "1ms",
        "--seed",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert f"I2CP router listening on 127.0.0.1:{port}" in line.decode()
        assert "delay 1ms" in line.decode()
        a = await I2CPClient.connect("127.0.0.1", port, timeout=10)
        b = await I2CPClient.connect("127.0.0.1", port, timeout=10)
        async with a, b:
            assert (await a.send(b.destination, b"via cli", protocol=PROTO_RAW)).delivered
            assert (await b.receive(timeout=10)).data == b"via cli"
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()
        assert "stopped: sessions=0" in out.decode()
        assert "delivered=1" in out.decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_bad_arguments_exit_2_with_a_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    for args, text in [
        (["router", "--delay", "soon"], "argument --delay: invalid duration 'soon'"),
        (["router", "--rate", "fast"], "argument --rate: invalid rate 'fast'"),
        (["router", "--loss", "2"], "argument --loss: invalid probability '2'"),
        (["router", "--burst", "0.1"], "argument --burst: invalid burst '0.1'"),
        ([], "required: COMMAND"),
    ]:
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 2
        assert text in capsys.readouterr().err


def test_arguments_build_impairments() -> None:
    command = (
        "router --loss 1% --delay 300ms --jitter 50ms --rate 256KiB/s --queue 64KiB "
        "--duplicate 0.01 --reorder 0.05 --reorder-delay 20ms --corrupt 0.001 "
        "--burst 0.01,0.3 --blackhole --seed 7"
    )
    args = build_parser().parse_args(command.split())
    imp = cli_router.build_impairments(args)
    assert imp == Impairments(
        delay=0.3,
        jitter=0.05,
        loss=0.01,
        burst=Burst(0.01, 0.3),
        duplicate=0.01,
        reorder=0.05,
        reorder_delay=0.02,
        rate=262144.0,
        queue_bytes=65536,
        corrupt=0.001,
        blackhole=True,
    )
    assert args.seed == 7
    text = cli_router.describe(imp)
    for part in ("blackhole", "delay 300ms ±50ms", "loss 0.01", "burst 0.01/0.3", "rate 256KiB/s"):
        assert part in text
    assert cli_router.describe(Impairments()) == "no impairments"
    burst4 = build_parser().parse_args(["router", "--burst", "0.1,0.2,0.01,0.9"]).burst
    assert burst4 == Burst(0.1, 0.2, 0.01, 0.9)


def test_status_line() -> None:
    stats = RouterStats(2, 1, Counters(delivered=5, dropped=1, bytes=99), 3, 0)
    line = cli_router.status_line(stats)
    assert "sessions=1" in line
    assert "delivered=5 dropped=1" in line
    assert "errors=3" in line


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_serve_in_process_with_status_line_and_bind_error() -> None:
    args = build_parser().parse_args(["router", "--port", "0", "--status-interval", "1ms"])
    out = _Tty()
    task = asyncio.create_task(cli_router._serve(args, out))
    while "\r" not in out.getvalue():  # the status line refreshes every millisecond
        await asyncio.sleep(0)
    signal.raise_signal(signal.SIGINT)
    assert await asyncio.wait_for(task, 10) == 0
    assert "\rsessions=0" in out.getvalue()
    # a port already in use: exit code 1 and a message
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        args = build_parser().parse_args(["router", "--port", str(busy.getsockname()[1])])
        err = io.StringIO()
        assert await cli_router._serve(args, err) == 1
        assert "cannot listen on 127.0.0.1" in err.getvalue()


def test_run_returns_the_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake_serve(args: argparse.Namespace, out: object) -> int:
        return 0

    monkeypatch.setattr(cli_router, "_serve", fake_serve)
    assert main(["router"]) == 0


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_status_interval_0_prints_no_status_line_and_waits_for_stop() -> None:
    out, stop = _Terminal(), asyncio.Event()
    task = asyncio.create_task(cli_router.show_status(EmbeddedRouter(), stop, 0.0, out))
    for _ in range(50):  # before: 0 meant a redraw at every turn of the loop (100 % CPU)
        await asyncio.sleep(0)
    assert not task.done() and out.getvalue() == ""
    stop.set()
    await asyncio.wait_for(task, 5)
    assert out.getvalue() == ""


class _Watched(io.StringIO):
    """Output that wakes a waiter whenever a line is written (no polling)."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def write(self, s: str) -> int:
        n = super().write(s)
        self.changed.set()
        return n

    async def wait_for(self, text: str) -> None:
        while text not in self.getvalue():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)


async def test_verbose_router_prints_each_session_coming_and_going() -> None:
    args = build_parser().parse_args(["-v", "router", "--port", "0"])
    out = _Watched()
    task = asyncio.create_task(cli_router._serve(args, out))
    await out.wait_for("press Ctrl-C")
    port = int(out.getvalue().split("listening on 127.0.0.1:")[1].split()[0])
    client = await I2CPClient.connect("127.0.0.1", port, timeout=10)
    b32 = client.destination.b32
    await out.wait_for(f"session opened {b32} from 127.0.0.1:")
    await client.close()
    await out.wait_for(f"session closed {b32} from 127.0.0.1:")
    lines = [line for line in out.getvalue().splitlines() if line.startswith("session ")]
    assert len(lines) == 2
    signal.raise_signal(signal.SIGINT)
    assert await asyncio.wait_for(task, 10) == 0


async def test_on_session_callback_sees_open_and_close() -> None:
    seen: list[str] = []
    router = EmbeddedRouter(on_session=lambda change: seen.append(cli_router.session_line(change)))
    async with router:
        client = await I2CPClient.connect(*router.address, timeout=10)
        await client.close()
        await router.wait_until(lambda r: r.stats().sessions == 0)
    assert [s.split()[1] for s in seen] == ["opened", "closed"]
