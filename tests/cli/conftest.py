"""An in-process embedded router for the CLI subprocesses (``I2CP_ROUTER`` points at it), and
an i2pd of a test's own for the tests that give it tunnels."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from i2p_streaming.router import EmbeddedRouter
from tests.support.i2pd import I2pdInstance
from tests.support.i2pd_tunnels import own_i2pd as start_own_i2pd


@pytest.fixture
async def router() -> AsyncIterator[EmbeddedRouter]:
    async with EmbeddedRouter("127.0.0.1", 0, seed=5) as r:
        yield r


@pytest.fixture
def own_i2pd(tmp_path: Path) -> Iterator[I2pdInstance]:
    """A fresh i2pd for this test alone (it changes the tunnels), stopped after it."""
    with start_own_i2pd(tmp_path / "i2pd") as inst:
        yield inst
