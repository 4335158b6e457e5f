"""``bench`` against ``bench-server`` as real processes over the embedded router, and the
progress display on a terminal and in a pipe."""

from __future__ import annotations

import io
import json
import signal
import sys

import pytest

from i2p_streaming.cli.progress import Progress, human_bytes, human_rate
from i2p_streaming.data import b32_address_to_hash
from i2p_streaming.router import EmbeddedRouter
from tests.cli.helpers import finish, read_line, spawn

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT: POSIX")

#: Bound for "stops within 2 s" after SIGINT, with slack for a loaded machine.
SIGINT_BOUND = 3.0


async def test_bench_measures_both_directions(router: EmbeddedRouter) -> None:
    server = await spawn("-v", "bench-server", "9", router=router.address)
    line = await read_line(server.stderr)
    while not line.startswith("bench-server on "):  # -v: the session's log line first
        line = await read_line(server.stderr)
    b32 = line.split()[2]
    key = b32_address_to_hash(b32)
    await router.wait_until(lambda r: r.find(key) is not None, timeout=20)

    bench = await spawn("bench", b32, "--size", "1MB", "--json", router=router.address)
    status, out, err = await finish(bench, timeout=60)
    assert status == 0, err
    result = json.loads(out)
    assert (result["destination"], result["port"], result["size"]) == (b32, 9, 1_000_000)
    for name in ("upload", "download"):
        r = result[name]
        assert r["bytes"] == 1_000_000
        assert r["goodput_bytes_per_second"] > 0 and r["rtt_ms"] > 0 and r["connect_ms"] > 0
        assert r["packets_retransmitted"] >= 0 and r["window"] >= 1
    assert result["upload"]["packets_sent"] >= 1_000_000 // 1812
    assert result["download"]["packets_received"] >= 1_000_000 // 1812
    # in a pipe the progress is plain lines, never a redrawn one
    text = err.decode()
    assert "\r" not in text
    assert "upload [" in text and "download [" in text and "100.0%" in text

    bench = await spawn(
        "-q", "bench", b32, "--duration", "300ms", "--direction", "down", router=router.address
    )
    status, out, err = await finish(bench, timeout=60)
    assert (status, err) == (0, b"")  # -q: no progress
    lines = out.decode().splitlines()
    assert lines[0] == f"bench {b32} port 9"
    assert len(lines) == 2 and lines[1].startswith("download: ")

    # Ctrl-C in the middle of a transfer: exit 130 at once, no traceback
    bench = await spawn("bench", b32, "--duration", "60s", router=router.address)
    assert bench.stderr is not None
    assert (await read_line(bench.stderr)).startswith("upload [")
    bench.send_signal(signal.SIGINT)
    status, out, err = await finish(bench, timeout=SIGINT_BOUND)
    assert status == 130 and out == b""
    assert b"Traceback" not in err

    server.send_signal(signal.SIGINT)
    status, _, err = await finish(server, timeout=SIGINT_BOUND)
    assert status == 130
    assert b"Traceback" not in err
    assert err.count(b"stream from ") == 4  # one line per stream at -v


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bench", "nowhere"], b"invalid destination"),
        (["bench", "site.i2p", "--size", "0"], b"invalid size 0"),
        (["bench", "site.i2p", "--size", "lots"], b"invalid size 'lots'"),
        (["bench", "site.i2p", "--duration", "5"], b"add a unit, e.g. 5s"),
        (["bench-server", "70000"], b"must be 1-65535"),
    ],
)
async def test_bench_argument_errors(args: list[str], message: bytes) -> None:
    proc = await spawn(*args, router=("127.0.0.1", 1))
    status, _, err = await finish(proc)
    assert status == 2
    assert message in err and err.count(b"\n") == 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_redraws_one_line_on_a_terminal() -> None:
    out, clock = _Terminal(), _Clock()
    progress = Progress("upload", out, total=1000, clock=clock)
    for i in range(1, 11):
        clock.now += 0.0625  # every other update is within the 0.1 s redraw bound
        progress.update(i * 100)
    progress.done(1000)
    text = out.getvalue()
    assert text.count("\r") == 5 + 1
    assert text.endswith("\n") and text.count("\n") == 1
    assert "100.0%" in text.rsplit("\r", 1)[1] and "1.00 kB" in text


def test_progress_prints_a_line_per_tenth_in_a_pipe() -> None:
    out, clock = io.StringIO(), _Clock()
    progress = Progress("download", out, total=10_000, clock=clock)
    for done in range(0, 10_001, 250):
        clock.now += 0.01
        progress.update(done)
    progress.done(10_000)
    lines = out.getvalue().splitlines()
    assert [line.split("]")[1].split("%")[0].strip() for line in lines] == [
        f"{p}.0" for p in range(0, 101, 10)
    ]
    # a duration-bounded transfer: the fraction is the time
    out = io.StringIO()
    progress = Progress("upload", out, duration=2.0, clock=clock)
    clock.now += 1.0
    progress.update(5_000_000)
    assert "50.0%" in out.getvalue() and "5.00 MB" in out.getvalue()


def test_human_units() -> None:
    assert human_bytes(999) == "999 B"
    assert human_bytes(1_500_000) == "1.50 MB"
    assert human_rate(1_000_000) == "1.00 MB/s (8.00 Mbit/s)"
