"""The demo command end to end on the embedded router (small size, mild impairments)."""

from __future__ import annotations

import io

import pytest

from i2p_streaming.cli.__main__ import build_parser
from i2p_streaming.cli.demo import run_demo
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
