"""Fixtures: the embedded router on its own event-loop thread, blocking sessions on it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from i2p_streaming.router import EmbeddedRouter
from i2p_streaming.sync import SyncSession, create_session


@pytest.fixture
def router_address() -> Iterator[str]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    router = EmbeddedRouter(seed=3)
    asyncio.run_coroutine_threadsafe(router.start(), loop).result(10)
    host, port = router.address
    yield f"{host}:{port}"
    asyncio.run_coroutine_threadsafe(router.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def sessions(router_address: str) -> Iterator[tuple[SyncSession, SyncSession]]:
    with create_session(router_address) as a, create_session(router_address) as b:
        yield a, b
