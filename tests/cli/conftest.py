"""An in-process embedded router for the CLI subprocesses (``I2CP_ROUTER`` points at it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from i2p_streaming.router import EmbeddedRouter


@pytest.fixture
async def router() -> AsyncIterator[EmbeddedRouter]:
    async with EmbeddedRouter("127.0.0.1", 0, seed=5) as r:
        yield r
