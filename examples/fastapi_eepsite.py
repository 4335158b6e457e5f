"""A FastAPI eepsite: JSON, a streamed response and a WebSocket echo, served over I2P.

Try it on the embedded router with a host name::

    i2p-streaming keygen site.dat
    echo "site.i2p=$(i2p-streaming keyinfo site.dat | sed -n 's/^base64: //p')" > hosts.txt
    i2p-streaming router --hosts hosts.txt &
    python examples/fastapi_eepsite.py --keys site.dat
    python examples/httpx_client.py http://site.i2p/

Prints ``serving http://<b32>/ (port N)`` once it accepts streams; Ctrl-C stops it gracefully.
Needs ``pip install 'i2p-streaming[asgi]' fastapi``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse

from i2p_streaming.aio import create_session
from i2p_streaming.web import ASGIServer, web_stream_options

app = FastAPI(title="an eepsite")


@app.get("/")
async def index(request: Request) -> dict[str, object]:
    """Who you are, as the I2P headers tell (a client cannot forge them)."""
    return {
        "hello": "from an I2P eepsite",
        "you": request.headers.get("x-i2p-destb32"),
        "client": list(request.client) if request.client else None,
    }


@app.get("/count")
async def count(n: int = 10) -> StreamingResponse:
    async def lines() -> AsyncIterator[bytes]:
        for i in range(n):
            yield f"{i}\n".encode()

    return StreamingResponse(lines(), media_type="text/plain")


@app.websocket("/echo")
async def echo(ws: WebSocket) -> None:
    await ws.accept()
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await ws.send_text(await ws.receive_text())


async def main(args: argparse.Namespace) -> None:
    async with create_session(
        args.router, keys=args.keys, create_keys=args.keys is not None, options=web_stream_options()
    ) as session:
        site = ASGIServer(app, session, args.port, log_level="warning")
        await site.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, site.exit)
        print(f"serving http://{session.b32}/ (port {args.port})", flush=True)
        await site.wait()
        await site.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="a FastAPI eepsite")
    parser.add_argument("--router", default="127.0.0.1:7654", help="I2CP router HOST:PORT")
    parser.add_argument("--keys", help="private-key file (created if missing; default: new)")
    parser.add_argument("--port", type=int, default=80, help="stream port (default 80)")
    asyncio.run(main(parser.parse_args()))
