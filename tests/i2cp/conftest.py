"""Fixtures for the I2CP tests: ``i2cp_router`` yields the (host, port) of a router's I2CP port.

Parametrised by router kind so the same tests run against every router we have; a param carries
the ``i2pd`` marker when it needs the real i2pd.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.embedded import embedded_router
from tests.support.gated import GatedRouter

ZERO_HOP = {
    "inbound.length": "0",
    "outbound.length": "0",
    "inbound.quantity": "1",
    "outbound.quantity": "1",
}


@pytest.fixture(params=[pytest.param("i2pd", marks=pytest.mark.i2pd), "embedded"])
async def i2cp_router(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, int]]:
    """(host, port) of a router's I2CP listener: the real i2pd, or our embedded router."""
    if request.param == "i2pd":
        instance = request.getfixturevalue("i2pd")
        yield instance.i2cp_address
        return
    async with embedded_router(seed=1) as target:
        yield target.i2cp_address


@pytest.fixture
async def gated() -> AsyncIterator[GatedRouter]:
    """A started :class:`~tests.support.gated.GatedRouter`, stopped after the test."""
    router = GatedRouter()
    await router.start()
    yield router
    await router.stop()
