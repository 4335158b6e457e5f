"""aiohttp apps served with serve_aiohttp, fetched with I2PConnector and httpx."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
import pytest
from aiohttp import web

from i2p_streaming.aio import Session
from i2p_streaming.data.base import b64encode
from i2p_streaming.web import AiohttpServer, AsyncI2PTransport, I2PConnector, serve_aiohttp
from tests.web.apps import aiohttp_app

pytestmark = pytest.mark.timeout(60)


async def test_serve_aiohttp_headers_remote_and_streaming(pair: tuple[Session, Session]) -> None:
    client, server = pair
    app = aiohttp_app()
    cleaned: list[str] = []

    async def on_cleanup(_: web.Application) -> None:
        cleaned.append("cleanup")

    app.on_cleanup.append(on_cleanup)
    ready = asyncio.Event()
    task = asyncio.create_task(serve_aiohttp(app, server, 80, ready=ready))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        async with aiohttp.ClientSession(connector=I2PConnector(client)) as http:
            async with http.get(
                f"http://{server.b32}/hello", headers={"X-I2P-DestB32": "x.b32.i2p"}
            ) as r:
                body = await r.json()
            async with http.get(f"http://{server.b32}/count") as r:
                text = await r.text()
        me = client.destination
        assert body == {
            "hello": "aiohttp",
            "remote": client.b32,
            "i2p": {
                "x-i2p-desthash": [b64encode(me.hash)],
                "x-i2p-destb64": [me.to_base64()],
                "x-i2p-destb32": [me.b32],
            },
        }
        assert text == "".join(f"line {i}\n" for i in range(50))
        async with httpx.AsyncClient(transport=AsyncI2PTransport(client), timeout=20) as hx:
            r2 = await hx.get(f"http://{server.b32}/hello")
        assert r2.json()["i2p"]["x-i2p-destb32"] == [me.b32]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert cleaned == ["cleanup"]


async def test_aiohttp_server_refuses_a_set_up_runner(pair: tuple[Session, Session]) -> None:
    _, server = pair
    runner = web.AppRunner(aiohttp_app())
    await runner.setup()
    try:
        with pytest.raises(ValueError, match="before setup"):
            AiohttpServer(runner, server)
    finally:
        await runner.cleanup()
    with pytest.raises(TypeError, match=r"Application or web\.AppRunner"):
        AiohttpServer(object(), server)  # type: ignore[arg-type]


async def test_connector_resolves_host_names_through_the_router(
    router: object, pair: tuple[Session, Session]
) -> None:
    from tests.support.embedded import RouterTarget

    assert isinstance(router, RouterTarget)
    client, server = pair
    router.embedded.register_name("site.i2p", server.destination)
    site = AiohttpServer(aiohttp_app(), server)
    await site.start(80)
    try:
        async with (
            aiohttp.ClientSession(connector=I2PConnector(client)) as http,
            http.get("http://site.i2p/hello") as r,
        ):
            assert r.status == 200
            assert (await r.json())["remote"] == client.b32
        async with httpx.AsyncClient(transport=AsyncI2PTransport(client), timeout=20) as hx:
            assert (await hx.get("http://site.i2p/hello")).status_code == 200
            with pytest.raises(httpx.ConnectError, match=r"nosuch\.i2p"):
                await hx.get("http://nosuch.i2p/")
        async with aiohttp.ClientSession(connector=I2PConnector(client)) as http:
            with pytest.raises(aiohttp.ClientConnectionError, match=r"nosuch\.i2p"):
                await http.get("http://nosuch.i2p/")
    finally:
        await site.stop()
