"""ASGI apps over the embedded router through uvicorn, fetched with httpx and aiohttp."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest

from i2p_streaming.aio import Session
from i2p_streaming.data.base import b64encode
from i2p_streaming.sync import create_session as sync_create
from i2p_streaming.web import ASGIServer, AsyncI2PTransport, I2PConnector, I2PTransport, serve_asgi
from tests.support.embedded import RouterTarget
from tests.web.apps import gated_app, starlette_app
from tests.web.conftest import BIG_SIZE, address, big_sha256

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def site(pair: tuple[Session, Session]) -> AsyncIterator[tuple[Session, Session, object]]:
    client, server = pair
    app = starlette_app()
    asgi = ASGIServer(app, server, 80, log_level="warning")
    await asgi.start()
    assert app.state.events == ["startup"]
    yield client, server, app
    await asgi.stop()
    assert app.state.events == ["startup", "shutdown"]


async def test_json_stream_and_headers_over_httpx(site: tuple[Session, Session, object]) -> None:
    client, server, _ = site
    base = f"http://{server.b32}"
    async with httpx.AsyncClient(transport=AsyncI2PTransport(client), timeout=20) as http:
        r = await http.get(f"{base}/hello", params={"n": 3})
        assert r.status_code == 200
        body = r.json()
        assert body["hello"] == "i2p" and body["n"] == 3
        assert body["client"] == [client.b32, 0]
        me = client.destination
        assert body["i2p"] == {
            "x-i2p-desthash": [b64encode(me.hash)],
            "x-i2p-destb64": [me.to_base64()],
            "x-i2p-destb32": [me.b32],
        }
        async with http.stream("GET", f"{base}/count") as resp:
            lines = [line async for line in resp.aiter_lines()]
        assert lines == [f"line {i}" for i in range(100)]


async def test_spoofed_i2p_headers_are_replaced(site: tuple[Session, Session, object]) -> None:
    client, server, _ = site
    fake = "a" * 52 + ".b32.i2p"
    async with httpx.AsyncClient(transport=AsyncI2PTransport(client), timeout=20) as http:
        r = await http.get(
            f"http://{server.b32}/hello",
            headers={
                "X-I2P-DestB32": fake,
                "x-i2p-desthash": "forged",
                "X_I2P_DestB64": "forged",
            },
        )
    seen = r.json()["i2p"]
    assert seen["x-i2p-destb32"] == [client.b32] != [fake]
    assert seen["x-i2p-desthash"] == [b64encode(client.destination.hash)]
    assert seen["x-i2p-destb64"] == [client.destination.to_base64()]


async def test_aiohttp_client_json_and_websocket_echo(
    site: tuple[Session, Session, object],
) -> None:
    client, server, _ = site
    async with aiohttp.ClientSession(connector=I2PConnector(client)) as http:
        async with http.get(f"http://{server.b32}/hello?n=7") as r:
            assert r.status == 200
            body = await r.json()
        assert body["n"] == 7 and body["i2p"]["x-i2p-destb32"] == [client.b32]
        async with http.ws_connect(f"http://{server.b32}/ws") as ws:
            for word in ("one", "two", "three"):
                await ws.send_str(word)
                msg = await ws.receive(timeout=20)
                assert msg.type == aiohttp.WSMsgType.TEXT and msg.data == "echo:" + word


async def test_100_concurrent_requests_over_keep_alive(
    site: tuple[Session, Session, object],
) -> None:
    client, server, _ = site
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=10)
    opened: list[object] = []
    transport = AsyncI2PTransport(client, limits=limits)
    async with httpx.AsyncClient(transport=transport, timeout=30) as http:

        async def one(n: int) -> tuple[int, int]:
            r = await http.get(f"http://{server.b32}/hello", params={"n": n})
            opened.append(r.extensions["network_stream"].get_extra_info("stream_id"))
            return r.status_code, r.json()["n"]

        results = await asyncio.gather(*(one(n) for n in range(100)))
    assert results == [(200, n) for n in range(100)]
    # keep-alive: 100 requests went over at most the 10 pooled streams
    assert len(opened) == 100 and len(set(opened)) <= 10


async def test_20_mb_download_sha256(site: tuple[Session, Session, object]) -> None:
    client, server, _ = site
    digest = hashlib.sha256()
    size = 0
    async with (
        httpx.AsyncClient(transport=AsyncI2PTransport(client), timeout=30) as http,
        http.stream("GET", f"http://{server.b32}/big") as resp,
    ):
        assert resp.status_code == 200
        async for chunk in resp.aiter_bytes():
            digest.update(chunk)
            size += len(chunk)
    assert size == BIG_SIZE
    assert digest.hexdigest() == big_sha256()


async def test_httpx_sync_client_from_a_thread(
    router: RouterTarget, site: tuple[Session, Session, object]
) -> None:
    """The blocking transport (its own session and loop thread) against the same site."""
    _, server, _ = site
    base = f"http://{server.b32}"

    def fetch() -> tuple[dict[str, object], list[str], str]:
        with (
            sync_create(address(router)) as session,
            httpx.Client(transport=I2PTransport(session), timeout=20) as http,
        ):
            body = http.get(f"{base}/hello", params={"n": 5}).json()
            with http.stream("GET", f"{base}/count") as resp:
                lines = list(resp.iter_lines())
            return body, lines, session.b32

    body, lines, b32 = await asyncio.to_thread(fetch)
    assert body["n"] == 5 and body["client"] == [b32, 0]
    assert body["i2p"]["x-i2p-destb32"] == [b32]  # type: ignore[index]
    assert lines == [f"line {i}" for i in range(100)]


async def test_idle_keep_alive_stream_closed_by_the_server_is_not_reused(
    pair: tuple[Session, Session],
) -> None:
    client, server = pair
    async with httpx.AsyncClient(transport=AsyncI2PTransport(client), timeout=20) as http:
        first = ASGIServer(starlette_app(), server, 80, log_level="warning")
        await first.start()
        r1 = await http.get(f"http://{server.b32}/small")
        stream1 = r1.extensions["network_stream"].get_extra_info("stream_id")
        await first.stop()  # closes the idle keep-alive stream
        second = ASGIServer(starlette_app(), server, 80, log_level="warning")
        await second.start()
        try:
            r2 = await http.get(f"http://{server.b32}/small")
        finally:
            await second.stop()
    assert r1.text == r2.text == "ok"
    assert r2.extensions["network_stream"].get_extra_info("stream_id") != stream1


async def test_graceful_stop_finishes_the_request_in_flight(pair: tuple[Session, Session]) -> None:
    client, server = pair
    gate, entered = asyncio.Event(), asyncio.Event()
    site = ASGIServer(gated_app(gate, entered), server, 80, log_level="warning")
    await site.start()
    async with httpx.AsyncClient(transport=AsyncI2PTransport(client), timeout=20) as http:
        request = asyncio.create_task(http.get(f"http://{server.b32}/slow"))
        await asyncio.wait_for(entered.wait(), 10)
        assert site.serving
        stopping = asyncio.create_task(site.stop())
        await asyncio.sleep(0)  # stop() runs up to its first wait: no longer accepting
        assert not site.serving and not stopping.done()
        gate.set()
        response = await asyncio.wait_for(request, 10)
        await asyncio.wait_for(stopping, 10)
    assert response.status_code == 200 and response.text == "finished"
    assert site.connections == 0
    # stopped: new streams are refused
    with pytest.raises(ConnectionRefusedError):
        await client.create_connection(asyncio.Protocol, server.destination, 80, timeout=10)


async def test_serve_asgi_runs_until_cancelled(pair: tuple[Session, Session]) -> None:
    client, server = pair
    app = starlette_app()
    task = asyncio.create_task(serve_asgi(app, server, 8080, log_level="warning"))
    async with httpx.AsyncClient(transport=AsyncI2PTransport(client), timeout=20) as http:
        r = await http.get(f"http://{server.b32}:8080/small", timeout=20)
    assert r.text == "ok" and app.state.events == ["startup"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert app.state.events == ["startup", "shutdown"]
    with pytest.raises(TypeError, match="no host="):
        ASGIServer(app, server, host="0.0.0.0")


async def test_h11_and_wsproto_protocol_classes(pair: tuple[Session, Session]) -> None:
    """The other uvicorn protocol pair (the default is httptools and websockets here)."""
    client, server = pair
    site = ASGIServer(starlette_app(), server, 80, http="h11", ws="wsproto", log_level="warning")
    await site.start()
    try:
        async with aiohttp.ClientSession(connector=I2PConnector(client)) as http:
            async with http.get(f"http://{server.b32}/hello?n=2") as r:
                assert (await r.json())["n"] == 2
            async with http.ws_connect(f"http://{server.b32}/ws") as ws:
                await ws.send_str("w")
                assert (await ws.receive(timeout=20)).data == "echo:w"
    finally:
        await site.stop()


async def test_read_timeouts_are_httpx_read_timeouts(
    router: RouterTarget, pair: tuple[Session, Session]
) -> None:
    client, server = pair
    gate, entered = asyncio.Event(), asyncio.Event()
    site = ASGIServer(gated_app(gate, entered), server, 80, log_level="warning")
    await site.start()
    url = f"http://{server.b32}/slow"
    try:
        async with httpx.AsyncClient(transport=AsyncI2PTransport(client)) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(url, timeout=httpx.Timeout(20, read=0.3))

        def blocking() -> None:
            with (
                sync_create(address(router)) as session,
                httpx.Client(transport=I2PTransport(session)) as http,
            ):
                with pytest.raises(httpx.ReadTimeout):
                    http.get(url, timeout=httpx.Timeout(20, read=0.3))
                with pytest.raises(httpx.ConnectError, match=r"nosuch\.i2p"):
                    http.get("http://nosuch.i2p/", timeout=20)

        await asyncio.to_thread(blocking)
    finally:
        gate.set()
        await site.stop()


async def test_start_failures_undo_the_lifespan(pair: tuple[Session, Session]) -> None:
    _, server = pair
    taken = await server.create_server(asyncio.Protocol, 80)
    app = starlette_app()
    with pytest.raises(OSError, match="already has a server"):
        await ASGIServer(app, server, 80, log_level="critical").start()
    assert app.state.events == ["startup", "shutdown"]  # the port was taken: startup undone
    taken.close()

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(RuntimeError, match="lifespan startup"):
        await ASGIServer(broken, server, 80, lifespan="on", log_level="critical").start()
