"""The demo command end to end on the embedded router (small size, mild impairments)."""

from __future__ import annotations

import asyncio
import io

import pytest

from i2p_streaming.cli.__main__ import build_parser
from i2p_streaming.cli.demo import _bounded, run_demo
from i2p_streaming.router import Impairments

pytestmark = pytest.mark.timeout(30)


async def test_demo_reports_a_verified_echo() -> None:
    out = io.StringIO()
    rc = await run_demo(
        size=200_000,
        impairments=Impairments(delay=0.02, jitter=0.002, loss=0.01),
        seed=5,
        stream_options={"i2p.streaming.maxMessageSize": "16384"},
        out=out,
    )
    text = out.getvalue()
    assert rc == 0, text
    assert "echo verified" in text and "ping RTT" in text and "retransmitted" in text
    assert "[##############################] 100.0%" in text  # a StringIO is no TTY: plain lines


def test_demo_is_a_subcommand() -> None:
    args = build_parser().parse_args(["demo", "--size", "1MB", "--loss", "2%"])
    assert args.size == 1_000_000 and args.loss == 0.02 and args.router is None


async def test_a_lost_final_ping_is_reported_and_does_not_fail_a_verified_echo() -> None:
    out = io.StringIO()
    rc = await run_demo(
        size=50_000,
        impairments=Impairments(delay=0.01),
        seed=1,
        stream_options={"i2p.streaming.answerPings": "false"},  # every ping goes unanswered
        out=out,
        ping_timeout=0.5,
    )
    text = out.getvalue()
    assert rc == 0, text
    assert "echo verified" in text and "demo OK" in text
    assert "ping RTT        n/a (no answer from" in text and "pings within 0.5 s" in text


async def test_a_failure_names_the_step_that_timed_out(capsys: pytest.CaptureFixture[str]) -> None:
    async def connect_times_out() -> int:
        raise TimeoutError("connect to x.b32.i2p port 7 timed out after 60 s")

    async def never_ends() -> int:
        await asyncio.Event().wait()  # never set: only the bound ends it
        return 0

    assert await _bounded(connect_times_out(), 5) == 1
    assert "demo FAILED: connect to x.b32.i2p port 7 timed out" in capsys.readouterr().err
    assert await _bounded(never_ends(), 0.01) == 1
    assert "demo FAILED: not finished within 0.01 s" in capsys.readouterr().err
