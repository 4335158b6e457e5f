"""Web requests per second: the same ASGI app over I2P streams and over plain TCP.

One process, one event loop: the embedded router (no delay, no loss), a server session with
the app served by :func:`i2p_streaming.web.serve_asgi`'s machinery (uvicorn's protocols) and a
client session fetching with httpx (:class:`~i2p_streaming.web.AsyncI2PTransport`, keep-alive
pool); then the same app under uvicorn on 127.0.0.1 fetched by httpx's own transport. Small
responses (``ok``), ``--concurrency`` requests in flight, ``--requests`` timed after
``--warmup``. Prints JSON; ``ratio`` is I2P requests/s over TCP requests/s (aim: >= 0.5).

    PYTHONPATH=src python benchmarks/web.py [--requests 2000] [--concurrency 10] [--http h11]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from i2p_streaming.aio import create_session
from i2p_streaming.router import EmbeddedRouter
from i2p_streaming.web import ASGIServer, AsyncI2PTransport, web_stream_options


def make_app() -> Starlette:
    async def small(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/", small)])


async def drive(
    client: httpx.AsyncClient, url: str, total: int, warmup: int, concurrency: int
) -> dict[str, Any]:
    """``warmup`` then ``total`` GETs of ``url``, ``concurrency`` at a time."""

    async def worker(count: int) -> None:
        for _ in range(count):
            r = await client.get(url)
            if r.status_code != 200 or r.content != b"ok":
                raise RuntimeError(f"bad response {r.status_code} {r.content[:40]!r}")

    async def run(n: int) -> float:
        share = [n // concurrency + (1 if i < n % concurrency else 0) for i in range(concurrency)]
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in share if k))
        return time.perf_counter() - t0

    await run(warmup)
    elapsed = await run(total)
    return {
        "requests": total,
        "concurrency": concurrency,
        "seconds": round(elapsed, 3),
        "requests_per_s": round(total / elapsed, 1),
        "mean_ms": round(elapsed / total * concurrency * 1000, 3),
    }


async def over_i2p(args: argparse.Namespace) -> dict[str, Any]:
    async with EmbeddedRouter("127.0.0.1", 0, seed=1) as router:
        host, port = router.address
        address = f"{host}:{port}"
        options = web_stream_options()
        async with (
            create_session(address, options=options) as server,
            create_session(address) as client,
        ):
            site = ASGIServer(make_app(), server, 80, http=args.http, log_level="warning")
            await site.start()
            limits = httpx.Limits(max_connections=args.concurrency)
            transport = AsyncI2PTransport(client, limits=limits)
            try:
                async with httpx.AsyncClient(transport=transport, timeout=60) as http:
                    return await drive(
                        http, f"http://{server.b32}/", args.requests, args.warmup, args.concurrency
                    )
            finally:
                await site.stop()


async def over_tcp(args: argparse.Namespace) -> dict[str, Any]:
    config = uvicorn.Config(
        make_app(), host="127.0.0.1", port=0, http=args.http, log_level="warning", log_config=None
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn has no readiness event; its own tests poll too
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    limits = httpx.Limits(max_connections=args.concurrency)
    try:
        async with httpx.AsyncClient(limits=limits, timeout=60) as http:
            return await drive(
                http, f"http://127.0.0.1:{port}/", args.requests, args.warmup, args.concurrency
            )
    finally:
        server.should_exit = True
        await task


async def main(args: argparse.Namespace) -> dict[str, Any]:
    i2p = await over_i2p(args)
    tcp = await over_tcp(args)
    return {
        "benchmark": "web",
        "app": "starlette, 2-byte response, uvicorn " + args.http,
        "client": "httpx AsyncClient, keep-alive pool",
        "i2p_embedded": i2p,
        "tcp_loopback": tcp,
        "ratio": round(i2p["requests_per_s"] / tcp["requests_per_s"], 3),
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--concurrency", type=int, default=10)
    p.add_argument("--http", default="h11", choices=("h11", "httptools", "auto"))
    return p.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse())), indent=2))
