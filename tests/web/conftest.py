"""Fixtures: the embedded router, asyncio sessions on it, and web apps used by several tests."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from i2p_streaming.aio import Session, create_session
from i2p_streaming.router import EmbeddedRouter
from i2p_streaming.sync import SyncSession
from i2p_streaming.sync import create_session as sync_create
from i2p_streaming.web import web_stream_options
from tests.support.embedded import RouterTarget, embedded_router

#: Size of the large download (sha256-checked) and its deterministic content.
BIG_SIZE = 20 * 1024 * 1024


def big_chunks(chunk: int = 256 * 1024) -> Iterator[bytes]:
    """The large download's bytes: a counter pattern, in ``chunk``-sized pieces."""
    block = bytes(range(256)) * (chunk // 256)
    sent = 0
    n = 0
    while sent < BIG_SIZE:
        piece = block[: min(chunk, BIG_SIZE - sent)]
        yield bytes([n % 256]) + piece[1:]
        sent += len(piece)
        n += 1


def big_sha256() -> str:
    digest = hashlib.sha256()
    for piece in big_chunks():
        digest.update(piece)
    return digest.hexdigest()


@pytest.fixture
async def router() -> AsyncIterator[RouterTarget]:
    async with embedded_router(seed=16) as target:
        yield target


def address(target: RouterTarget) -> str:
    host, port = target.i2cp_address
    return f"{host}:{port}"


@pytest.fixture
async def pair(router: RouterTarget) -> AsyncIterator[tuple[Session, Session]]:
    """(client session, server session) on the embedded router; the server's streams send
    each write at once (:func:`web_stream_options`), as a web server's should."""
    async with (
        create_session(address(router)) as client,
        create_session(address(router), options=web_stream_options()) as server,
    ):
        yield client, server


@pytest.fixture
def sync_router() -> Iterator[EmbeddedRouter]:
    """The embedded router on its own event-loop thread (for the blocking API's tests)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    router = EmbeddedRouter(seed=16)
    asyncio.run_coroutine_threadsafe(router.start(), loop).result(10)
    yield router
    asyncio.run_coroutine_threadsafe(router.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def sync_pair(sync_router: EmbeddedRouter) -> Iterator[tuple[SyncSession, SyncSession]]:
    """(client, server) blocking sessions on the threaded embedded router."""
    host, port = sync_router.address
    with (
        sync_create(f"{host}:{port}") as client,
        sync_create(f"{host}:{port}", options=web_stream_options()) as server,
    ):
        yield client, server
