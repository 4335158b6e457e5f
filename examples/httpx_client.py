"""Fetch an I2P URL with httpx: ``python examples/httpx_client.py http://site.i2p/``.

Host names are resolved by the router (on the embedded router: its ``--hosts`` files);
``….b32.i2p`` addresses need no name. ``--async`` uses ``httpx.AsyncClient``. Prints the
status line, then the body. Needs ``pip install 'i2p-streaming[httpx]'``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import httpx

from i2p_streaming import aio, sync
from i2p_streaming.web import AsyncI2PTransport, I2PTransport


def fetch(args: argparse.Namespace) -> int:
    with (
        sync.create_session(args.router) as session,
        httpx.Client(transport=I2PTransport(session), timeout=args.timeout) as client,
    ):
        r = client.get(args.url)
        print(r.status_code, r.reason_phrase)
        print(r.text)
    return 0 if r.is_success else 1


async def fetch_async(args: argparse.Namespace) -> int:
    async with aio.create_session(args.router) as session:
        transport = AsyncI2PTransport(session)
        async with httpx.AsyncClient(transport=transport, timeout=args.timeout) as client:
            r = await client.get(args.url)
            print(r.status_code, r.reason_phrase)
            print(r.text)
    return 0 if r.is_success else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="fetch an I2P URL with httpx")
    parser.add_argument("url", help="http://NAME.i2p/... or http://....b32.i2p/...")
    parser.add_argument("--router", default="127.0.0.1:7654", help="I2CP router HOST:PORT")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--async", dest="use_async", action="store_true", help="AsyncClient")
    args = parser.parse_args()
    sys.exit(asyncio.run(fetch_async(args)) if args.use_async else fetch(args))
