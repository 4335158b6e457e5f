"""Fetch an I2P URL with aiohttp: ``python examples/aiohttp_client.py http://site.i2p/``.

``--ws TEXT`` opens a WebSocket to the URL instead and prints the first message after sending
TEXT (try ``http://site.i2p/echo`` on the FastAPI example). Host names are resolved by the
router. Needs ``pip install 'i2p-streaming[aiohttp]'``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import aiohttp

from i2p_streaming.aio import create_session
from i2p_streaming.web import I2PConnector


async def main(args: argparse.Namespace) -> int:
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    async with (
        create_session(args.router) as session,
        aiohttp.ClientSession(connector=I2PConnector(session), timeout=timeout) as http,
    ):
        if args.ws is not None:
            async with http.ws_connect(args.url) as ws:
                await ws.send_str(args.ws)
                print((await ws.receive()).data)
            return 0
        async with http.get(args.url) as r:
            print(r.status, r.reason)
            print(await r.text())
            return 0 if r.ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="fetch an I2P URL with aiohttp")
    parser.add_argument("url", help="http://NAME.i2p/... or http://....b32.i2p/...")
    parser.add_argument("--router", default="127.0.0.1:7654", help="I2CP router HOST:PORT")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--ws", metavar="TEXT", help="send TEXT over a WebSocket, print reply")
    sys.exit(asyncio.run(main(parser.parse_args())))
