"""Rate-limited warnings: the first of a kind at once, then one per interval with a count."""

from __future__ import annotations

import logging

import pytest

from i2p_streaming.aio.ratelog import RateLimitedLog

pytestmark = pytest.mark.timeout(10)


def test_repeats_are_counted_and_summarised_once_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("test.ratelog")
    limited = RateLimitedLog(log, interval=10.0)
    with caplog.at_level("WARNING", logger="test.ratelog"):
        logged = [limited.warning("a", t * 0.01, "msg %d", t) for t in range(1000)]  # 0-10 s
        assert limited.warning("b", 5.0, "other")  # another kind is not held back
        assert limited.warning("a", 10.5, "msg %d", 1000)
    assert logged.count(True) == 1 and limited.total == 1002
    assert [r.getMessage() for r in caplog.records] == [
        "msg 0",
        "other",
        "msg 1000 (999 more like it in the last 10 s)",
    ]
