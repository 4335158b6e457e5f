"""The web applications the tests serve (real Starlette, Flask and aiohttp apps)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tests.web.conftest import big_chunks

I2P_HEADER_KEYS = ("x-i2p-desthash", "x-i2p-destb64", "x-i2p-destb32")


def starlette_app() -> Any:
    """JSON route, a streaming response, the 20 MB download, a WebSocket echo, lifespan."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket

    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "hello": "i2p",
                "n": int(request.query_params.get("n", "0")),
                "client": list(request.client) if request.client else None,
                "i2p": {k: request.headers.getlist(k) for k in I2P_HEADER_KEYS},
            }
        )

    async def count(request: Request) -> StreamingResponse:
        async def lines() -> AsyncIterator[bytes]:
            for i in range(100):
                yield f"line {i}\n".encode()

        return StreamingResponse(lines(), media_type="text/plain")

    async def big(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            for piece in big_chunks():
                yield piece

        return StreamingResponse(body(), media_type="application/octet-stream")

    async def small(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            await ws.send_text("echo:" + text)

    app = Starlette(
        routes=[
            Route("/hello", hello),
            Route("/count", count),
            Route("/big", big),
            Route("/small", small),
            WebSocketRoute("/ws", echo),
        ],
        lifespan=lifespan,
    )
    app.state.events = events
    return app


def flask_app() -> Any:
    """A Flask app: JSON with the I2P headers as the WSGI environ has them, a POST echo."""
    from flask import Flask, jsonify, request

    app = Flask("i2p-test")

    @app.get("/hello")
    def hello() -> Any:
        env = request.environ
        return jsonify(
            hello="flask",
            remote=request.remote_addr,
            i2p={k: env.get("HTTP_" + k.upper().replace("-", "_")) for k in I2P_HEADER_KEYS},
        )

    @app.post("/echo")
    def echo() -> Any:
        return request.get_data(), 200, {"Content-Type": "application/octet-stream"}

    return app


def aiohttp_app() -> Any:
    """An aiohttp app: JSON with the I2P headers and the peer, a chunked download."""
    from aiohttp import web

    async def hello(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "hello": "aiohttp",
                "remote": request.remote,
                "i2p": {k: request.headers.getall(k, []) for k in I2P_HEADER_KEYS},
            }
        )

    async def count(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for i in range(50):
            await resp.write(f"line {i}\n".encode())
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/hello", hello)
    app.router.add_get("/count", count)
    return app


def gated_app(gate: Any, entered: Any) -> Any:
    """A raw ASGI app whose ``/slow`` answers only once ``gate`` (an asyncio.Event) is set;
    ``entered`` (an asyncio.Event) is set when a request is inside."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        entered.set()
        await gate.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"finished"})

    return app
