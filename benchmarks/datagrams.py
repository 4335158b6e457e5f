"""Datagram round trips through i2pd (and the embedded router): datagrams/s and loss, 1 KB.

Two of our sessions on one zero-hop router. The server echoes every datagram to its sender;
the client keeps ``--window`` datagrams in flight, each with a sequence number, and counts
one lost when its echo has not come within ``--timeout`` seconds. Replies are part of the
design: through i2pd a one-way flow stalls after the first message until the peer answers.
Prints JSON per router and kind: round trips per second, datagrams per second (both ways),
loss (the client's view and the server's one-way count) and the RTT median and p90.

    python benchmarks/datagrams.py [--count 2000] [--size 1024] [--window 16]
        [--kinds repliable,raw,datagram2,datagram3] [--no-i2pd] [--no-embedded]
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

from i2p_streaming.aio import ZERO_HOP, DatagramEndpoint, Session, create_session

KINDS = ("repliable", "raw", "datagram2", "datagram3")


async def _echo(ep: DatagramEndpoint, raw_peer: str, seen: set[int]) -> None:
    while True:
        got = await ep.recv()
        seen.add(int.from_bytes(got.data[:4], "big"))
        await ep.send(got.data, got.destination or got.sender or raw_peer, got.src_port)


async def _warm_up(client: DatagramEndpoint, server: Session, port: int) -> None:
    """Resend one datagram until its echo comes (LeaseSet lookups, first-message stalls)."""
    probe = (0xFFFFFFFF).to_bytes(4, "big")
    for _ in range(30):
        await client.send(probe, server.destination, port)
        try:
            async with asyncio.timeout(1.0):
                while (await client.recv()).data[:4] != probe:
                    pass
            return
        except TimeoutError:
            continue
    raise RuntimeError("no echo through the router after 30 tries")


async def run_kind(
    a: Session, b: Session, kind: str, count: int, size: int, window: int, timeout: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    port = 4000 + KINDS.index(kind)
    server = await b.open_datagram_endpoint(port=port, kind=kind)
    client = await a.open_datagram_endpoint(port=port, kind=kind)
    seen: set[int] = set()
    echo = asyncio.create_task(_echo(server, a.b32, seen))
    try:
        await _warm_up(client, b, port)
        seen.clear()
        sent_at: dict[int, float] = {}
        rtts: list[float] = []
        lost = 0
        next_seq = 0
        started = last_reply = loop.time()
        filler = bytes(size - 4)
        while next_seq < count or sent_at:
            while next_seq < count and len(sent_at) < window:
                sent_at[next_seq] = loop.time()
                await client.send(next_seq.to_bytes(4, "big") + filler, b.destination, port)
                next_seq += 1
            oldest = min(sent_at.values())
            try:
                got = await client.recv(timeout=max(0.0, oldest + timeout - loop.time()))
            except TimeoutError:
                now = loop.time()
                expired = [s for s, t in sent_at.items() if t + timeout <= now]
                for seq in expired:
                    del sent_at[seq]
                lost += len(expired)
                continue
            at = sent_at.pop(int.from_bytes(got.data[:4], "big"), None)
            if at is not None:
                last_reply = loop.time()
                rtts.append(last_reply - at)
        elapsed = max(last_reply - started, 1e-9)  # not the final wait for lost echoes
    finally:
        echo.cancel()
        server.close()
        client.close()
    replies = len(rtts)
    q = statistics.quantiles(rtts, n=10) if len(rtts) >= 2 else [0.0] * 9
    return {
        "kind": kind,
        "sent": count,
        "replies": replies,
        "loss_round_trip": round(lost / count, 4),
        "loss_to_server": round(1 - len(seen) / count, 4),
        "round_trips_per_s": round(replies / elapsed, 1),
        "datagrams_per_s": round((len(seen) + replies) / elapsed, 1),
        "rtt_median_ms": round(statistics.median(rtts) * 1000, 2) if rtts else None,
        "rtt_p90_ms": round(q[8] * 1000, 2),
        "elapsed_s": round(elapsed, 2),
    }


async def exchange(router: str, args: argparse.Namespace) -> dict[str, Any]:
    async with (
        create_session(router, options=ZERO_HOP) as a,
        create_session(router, options=ZERO_HOP) as b,
    ):
        results = []
        for kind in args.kinds:
            t0 = time.process_time()
            result = await run_kind(a, b, kind, args.count, args.size, args.window, args.timeout)
            result["python_cpu_s"] = round(time.process_time() - t0, 2)
            results.append(result)
        return {"kinds": results, "client_counters": dict(a.datagrams.core.counters)}


def through_i2pd(args: argparse.Namespace) -> dict[str, Any]:
    from tests.support.i2pd import find_i2pd, start_i2pd, stop_i2pd

    binary = find_i2pd()
    if binary is None:
        return {"skipped": "i2pd not installed (scripts/install-i2pd)"}
    inst = start_i2pd(binary, Path(tempfile.mkdtemp(prefix="bench-i2pd-")))
    try:
        result = asyncio.run(exchange(f"{inst.host}:{inst.i2cp_port}", args))
        result["i2pd"] = binary.version
        return result
    finally:
        stop_i2pd(inst)


def through_embedded(args: argparse.Namespace) -> dict[str, Any]:
    from i2p_streaming.router import EmbeddedRouter

    async def run() -> dict[str, Any]:
        async with EmbeddedRouter("127.0.0.1", 0) as router:
            host, port = router.address
            return await exchange(f"{host}:{port}", args)

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=2000, help="datagrams per kind")
    parser.add_argument("--size", type=int, default=1024, help="payload bytes (at least 4)")
    parser.add_argument("--window", type=int, default=16, help="datagrams in flight")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds before 'lost'")
    parser.add_argument(
        "--kinds", type=lambda s: s.split(","), default=list(KINDS), help="comma-separated"
    )
    parser.add_argument("--no-i2pd", action="store_true")
    parser.add_argument("--no-embedded", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {"size": args.size, "count": args.count, "window": args.window}
    if not args.no_embedded:
        report["embedded"] = through_embedded(args)
    if not args.no_i2pd:
        report["i2pd"] = through_i2pd(args)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
