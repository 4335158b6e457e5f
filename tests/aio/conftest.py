"""Fixtures: an in-process embedded router and sessions on it (no impairments by default)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from i2p_streaming.aio import Session, create_session
from tests.support.embedded import RouterTarget, embedded_router


@pytest.fixture
async def router() -> AsyncIterator[RouterTarget]:
    async with embedded_router(seed=7) as target:
        yield target


def address(target: RouterTarget) -> str:
    host, port = target.i2cp_address
    return f"{host}:{port}"


@pytest.fixture
async def pair(router: RouterTarget) -> AsyncIterator[tuple[Session, Session]]:
    """(client session, server session) on the embedded router."""
    async with (
        create_session(address(router)) as a,
        create_session(address(router)) as b,
    ):
        yield a, b
