"""The matrix's own checks: a wrong, missing or extra byte is caught; outcomes classify."""

from __future__ import annotations

import asyncio

import pytest

from tests.reliability.cells import FULL, QUICK, Cell, cells_by_name
from tests.reliability.runner import _classify
from tests.reliability.transfer import CorruptionError, Progress, Verifier, payload

pytestmark = pytest.mark.timeout(10)

DATA = payload(1, 0, "up", 10_000)


def test_verifier_accepts_the_exact_bytes_in_any_chunking() -> None:
    progress = Progress(len(DATA))
    v = Verifier(DATA, progress, "t")
    for start in range(0, len(DATA), 777):
        v.feed(DATA[start : start + 777])
    v.finish()
    assert progress.received == len(DATA)


@pytest.mark.parametrize("offset", [0, 4_999, 9_999])
def test_verifier_catches_a_changed_byte(offset: int) -> None:
    damaged = bytearray(DATA)
    damaged[offset] ^= 0x40
    v = Verifier(DATA, Progress(len(DATA)), "t")
    with pytest.raises(CorruptionError, match=f"offset {offset}"):
        v.feed(bytes(damaged))


def test_verifier_catches_truncation_and_extra_bytes() -> None:
    short = Verifier(DATA, Progress(len(DATA)), "t")
    short.feed(DATA[:-1])
    with pytest.raises(CorruptionError, match="EOF after 9999 of 10000"):
        short.finish()
    extra = Verifier(DATA, Progress(len(DATA)), "t")
    with pytest.raises(CorruptionError, match="10001 bytes received"):
        extra.feed(DATA + b"x")


async def test_progress_wakes_at_a_fraction() -> None:
    progress = Progress(100)
    waiter = asyncio.ensure_future(progress.reached(0.5))
    progress.add(49)
    await asyncio.sleep(0)
    assert not waiter.done()
    progress.add(1)
    await asyncio.wait_for(waiter, 1)


def test_classify() -> None:
    complete = QUICK[0]
    dead = next(c for c in QUICK if c.expect)
    reset = ConnectionResetError(f"x {dead.expect_text} y")
    assert _classify(complete, [], []) == ("ok", "")
    assert _classify(complete, [], [CorruptionError("bad")])[0] == "CORRUPTED"
    assert _classify(complete, [TimeoutError("t")], [])[0] == "UNEXPECTED-ERROR"
    assert _classify(dead, [reset], [])[0] == "expected-error"
    assert _classify(dead, [], [])[0] == "UNEXPECTED-OK"
    assert _classify(dead, [TimeoutError("t")], [])[0] == "UNEXPECTED-ERROR"
    assert _classify(dead, [ConnectionResetError("other")], [])[0] == "UNEXPECTED-ERROR"


def test_tables_have_unique_names_and_selection_works() -> None:
    for table in (QUICK, FULL):
        names = [c.name for c in table]
        assert len(names) == len(set(names))
    assert {c.name for c in QUICK} <= {c.name for c in FULL}
    picked: tuple[Cell, ...] = cells_by_name(FULL, "clean, loss-30")
    assert [c.name for c in picked] == ["clean", "loss-30"]
    with pytest.raises(ValueError, match="nosuch"):
        cells_by_name(FULL, "nosuch")
