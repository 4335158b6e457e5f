"""Fixtures for the I2CP tests: ``i2cp_router`` yields the (host, port) of a router's I2CP port.

Parametrised by router kind so the same tests run against every router we have; a param carries
the ``i2pd`` marker when it needs the real i2pd. One router per kind serves a module's tests
(module scope: they run on the module's event loop, ``pytest.mark.asyncio(loop_scope="module")``),
so that they can share sessions on it (a fresh session waits seconds for i2pd's tunnels).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.support.embedded import embedded_router
from tests.support.gated import GatedRouter
from tests.support.i2pd import FLAVOURS, I2pdManagers

ZERO_HOP = {
    "inbound.length": "0",
    "outbound.length": "0",
    "inbound.quantity": "1",
    "outbound.quantity": "1",
}


@pytest_asyncio.fixture(
    scope="module",
    loop_scope="module",
    params=[pytest.param("i2pd", marks=pytest.mark.i2pd), "embedded"],
)
async def i2cp_router(
    request: pytest.FixtureRequest, i2pd_managers: I2pdManagers
) -> AsyncIterator[tuple[str, int]]:
    """(host, port) of a router's I2CP listener: the shared (newest) i2pd, or our embedded
    router (one per module)."""
    if request.param == "i2pd":
        yield i2pd_managers.get(FLAVOURS[0]).get().i2cp_address
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
