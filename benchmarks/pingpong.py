"""Interactive latency: a 32-byte ping-pong over one stream, through i2pd or the embedded router.

Two of our sessions on the same router; the client writes 32 bytes and waits for the server's
32-byte echo, ``--count`` times. Prints JSON: median, p90, p99 and max of the round trip in
milliseconds (after ``--warmup`` exchanges), per router.

    python benchmarks/pingpong.py [--count 2000] [--warmup 100] [--no-i2pd] [--no-embedded]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from i2p_streaming.aio import ZERO_HOP, create_session

SIZE = 32
OPTIONS = {**ZERO_HOP, "i2p.streaming.profile": "2"}  # interactive: send at once


async def exchange(router: str, count: int, warmup: int) -> dict[str, Any]:
    async with (
        await create_session(router, options=OPTIONS) as server,
        await create_session(router, options=OPTIONS) as client,
    ):

        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(SIZE):
                writer.write(data)
            writer.close()

        srv = await server.start_server(echo, 7)
        reader, writer = await client.open_connection(server.destination, 7, timeout=60)
        msg = b"p" * SIZE
        rtts: list[float] = []
        for i in range(warmup + count):
            t0 = time.perf_counter()
            writer.write(msg)
            got = await asyncio.wait_for(reader.readexactly(SIZE), 30)
            if i >= warmup:
                rtts.append((time.perf_counter() - t0) * 1000.0)
            assert got == msg
        writer.close()
        srv.close()
    rtts.sort()
    q = statistics.quantiles(rtts, n=100)
    return {
        "count": count,
        "median_ms": round(statistics.median(rtts), 3),
        "p90_ms": round(q[89], 3),
        "p99_ms": round(q[98], 3),
        "max_ms": round(rtts[-1], 3),
        "over_20ms": sum(1 for r in rtts if r > 20.0),
    }


def through_i2pd(count: int, warmup: int) -> dict[str, Any]:
    from tests.support.i2pd import find_i2pd, start_i2pd, stop_i2pd

    binary = find_i2pd()
    if binary is None:
        return {"skipped": "i2pd not installed (scripts/install-i2pd)"}
    inst = start_i2pd(binary, Path(tempfile.mkdtemp(prefix="bench-i2pd-")))
    try:
        result = asyncio.run(exchange(f"{inst.host}:{inst.i2cp_port}", count, warmup))
        result["i2pd"] = binary.version
        return result
    finally:
        stop_i2pd(inst)


def through_embedded(count: int, warmup: int) -> dict[str, Any]:
    from i2p_streaming.router import EmbeddedRouter

    async def run() -> dict[str, Any]:
        router = EmbeddedRouter()
        await router.start()
        try:
            host, port = router.address
            return await exchange(f"{host}:{port}", count, warmup)
        finally:
            await router.stop()

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--no-i2pd", action="store_true")
    parser.add_argument("--no-embedded", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {"size": SIZE}
    if not args.no_embedded:
        report["embedded"] = through_embedded(args.count, args.warmup)
    if not args.no_i2pd:
        report["i2pd"] = through_i2pd(args.count, args.warmup)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
