"""``i2p-streaming bench DEST`` against ``i2p-streaming bench-server PORT``: goodput and RTT.

The bench protocol is one request line per stream, then raw bytes:

- ``UP\\n``, then the client's bytes until its CLOSE; the server answers ``OK <bytes>\\n``
  (what it received) and closes;
- ``DOWN <bytes>\\n`` (0: no bound): the server sends that many bytes, or until the client's
  CLOSE (the client half-closes only to stop early, else after the server's CLOSE), then
  closes.

``bench`` runs an upload and then a download (``--direction``), each ``--size`` bytes (10 MB)
or ``--duration`` long, whichever ends first (only ``--duration``: no byte bound), and reports
per direction the bytes, the time, the goodput, the stream's smoothed RTT, the packets and
retransmissions (upload) or dropped duplicates (download) from the stream's statistics, and
the time to open the stream. Text on stdout, or JSON with ``--json``; the progress goes to
stderr (a bar on a terminal, plain lines in a pipe; none with ``-q``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from typing import Any

from i2p_streaming.aio import Session
from i2p_streaming.cli.common import (
    CommandError,
    add_keys_option,
    arg_type,
    command_session,
    connect_or_exit,
    destination_arg,
    duration_arg,
    port_arg,
    run_command,
)
from i2p_streaming.cli.progress import Progress, human_bytes, human_rate
from i2p_streaming.router.units import parse_size
from i2p_streaming.streaming import StreamStats

__all__ = ["register"]

log = logging.getLogger("i2p_streaming.cli")

CHUNK = 64 * 1024
DEFAULT_SIZE = 10_000_000
#: Streams a bench-server serves at once (more are reset).
MAX_STREAMS = 64
#: Seconds a bench-server waits for a stream's request line.
REQUEST_TIMEOUT = 30.0

size_arg = arg_type(parse_size, "size")


def register(subparsers: Any) -> None:
    """Add the ``bench`` and ``bench-server`` subcommands."""
    p = subparsers.add_parser(
        "bench",
        help="measure goodput and RTT to a bench-server",
        description="Upload then download --size bytes (10MB) or for --duration, whichever "
        "ends first, to a bench-server at DEST port PORT; print goodput, RTT and "
        "retransmissions (--json: as JSON).",
    )
    p.add_argument("dest", type=destination_arg, metavar="DEST")
    p.add_argument("--port", type=port_arg, default=9, help="bench-server port (9)")
    p.add_argument("--size", type=size_arg, default=None, help="bytes per direction (10MB)")
    p.add_argument("--duration", type=duration_arg, default=None, help="time per direction")
    p.add_argument(
        "--direction", choices=("both", "up", "down"), default="both", help="both (default)"
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--timeout", type=duration_arg, default=60.0, help="connect timeout (60s)")
    p.set_defaults(run=run_bench)
    q = subparsers.add_parser(
        "bench-server",
        help="answer bench: count uploads, send downloads",
        description="Accept bench streams on PORT (prints the address on stderr). --keys FILE "
        "gives a stable address.",
    )
    q.add_argument("port", type=port_arg, metavar="PORT")
    add_keys_option(q)
    q.set_defaults(run=run_bench_server)


# ---------------------------------------------------------------------- the client
def _limits(args: argparse.Namespace) -> tuple[int | None, float | None]:
    if args.size is not None and args.size <= 0:
        raise CommandError(f"invalid size {args.size}: must be more than 0 bytes", 2)
    if args.size is None and args.duration is None:
        return DEFAULT_SIZE, None
    return args.size, args.duration


def _stats_of(writer: asyncio.StreamWriter) -> StreamStats | None:
    stats = writer.get_extra_info("stats")
    return stats if isinstance(stats, StreamStats) else None


def _report(done: int, seconds: float, connect: float, stats: StreamStats | None) -> dict[str, Any]:
    report: dict[str, Any] = {
        "bytes": done,
        "seconds": round(seconds, 6),
        "goodput_bytes_per_second": round(done / seconds, 1) if seconds > 0 else None,
        "connect_ms": round(connect * 1000, 3),
    }
    if stats is not None:
        report.update(
            rtt_ms=None if stats.rtt is None else round(stats.rtt * 1000, 3),
            packets_sent=stats.packets_sent,
            packets_received=stats.packets_received,
            packets_retransmitted=stats.packets_retransmitted,
            packets_dropped=stats.packets_dropped,
            window=stats.window,
        )
    return report


async def _open(
    session: Session, args: argparse.Namespace
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, float]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    reader, writer = await connect_or_exit(session, args.dest, args.port, args.timeout)
    return reader, writer, loop.time() - start


def _progress(label: str, args: argparse.Namespace, size: int | None) -> Progress | None:
    if args.quiet:
        return None
    return Progress(label, sys.stderr, total=size, duration=args.duration)


async def _upload(
    session: Session, args: argparse.Namespace, size: int | None, duration: float | None
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    reader, writer, connect = await _open(session, args)
    progress = _progress("upload", args, size)
    block = os.urandom(CHUNK)
    try:
        writer.write(b"UP\n")
        start = loop.time()
        sent = 0
        while (size is None or sent < size) and (
            duration is None or loop.time() - start < duration
        ):
            n = CHUNK if size is None else min(CHUNK, size - sent)
            writer.write(block[:n])
            await writer.drain()
            sent += n
            if progress is not None:
                progress.update(sent)
        writer.write_eof()
        answer = await asyncio.wait_for(reader.readline(), args.timeout)
        seconds = loop.time() - start
        words = answer.split()
        if len(words) != 2 or words[0] != b"OK" or not words[1].isdigit():
            raise CommandError(f"not a bench-server: it answered {answer[:40]!r}")
        confirmed = int(words[1])
        if progress is not None:
            progress.done(confirmed)
        if confirmed != sent:
            raise CommandError(f"upload: the server received {confirmed} of {sent} bytes")
        return _report(confirmed, seconds, connect, _stats_of(writer))
    except (ConnectionError, TimeoutError) as exc:
        raise CommandError(f"upload: {exc or type(exc).__name__}") from None
    finally:
        writer.close()


async def _download(
    session: Session, args: argparse.Namespace, size: int | None, duration: float | None
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    reader, writer, connect = await _open(session, args)
    progress = _progress("download", args, size)
    stopper: asyncio.TimerHandle | None = None
    try:
        writer.write(f"DOWN {size or 0}\n".encode())
        if duration is not None:  # our CLOSE tells the server to stop sending
            stopper = loop.call_later(duration, writer.write_eof)
        start = loop.time()
        received = 0
        while data := await reader.read(CHUNK):
            received += len(data)
            if progress is not None:
                progress.update(received)
        seconds = loop.time() - start
        if progress is not None:
            progress.done(received)
        if size is not None and duration is None and received != size:
            raise CommandError(f"download: received {received} of {size} bytes")
        return _report(received, seconds, connect, _stats_of(writer))
    except ConnectionError as exc:
        raise CommandError(f"download: {exc or type(exc).__name__}") from None
    finally:
        if stopper is not None:
            stopper.cancel()
        writer.close()


def _text(result: dict[str, Any]) -> str:
    lines = [f"bench {result['destination']} port {result['port']}"]
    for name in ("upload", "download"):
        r = result.get(name)
        if r is None:
            continue
        rate = r["goodput_bytes_per_second"] or 0.0
        line = f"{name + ':':<10}{human_bytes(r['bytes'])} in {r['seconds']:.2f} s = "
        line += human_rate(rate)
        if "rtt_ms" in r:
            rtt = "?" if r["rtt_ms"] is None else f"{r['rtt_ms']:.1f} ms"
            if name == "upload":
                extra = f"{r['packets_retransmitted']} of {r['packets_sent']} packets resent"
            else:
                extra = f"{r['packets_received']} packets, {r['packets_dropped']} dropped"
            line += f"; rtt {rtt}, {extra}, window {r['window']}"
        lines.append(line + f"; connect {r['connect_ms']:.1f} ms")
    return "\n".join(lines)


async def _bench(args: argparse.Namespace) -> int:
    size, duration = _limits(args)
    async with command_session(args) as session:
        result: dict[str, Any] = {
            "destination": args.dest,
            "port": args.port,
            "size": size,
            "duration": duration,
        }
        if args.direction in ("both", "up"):
            result["upload"] = await _upload(session, args, size, duration)
        if args.direction in ("both", "down"):
            result["download"] = await _download(session, args, size, duration)
    print(json.dumps(result, indent=2) if args.json else _text(result), flush=True)
    return 0


# ---------------------------------------------------------------------- the server
async def _discard_until_eof(reader: asyncio.StreamReader) -> int:
    n = 0
    while data := await reader.read(CHUNK):
        n += len(data)
    return n


async def _serve_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
    line = await asyncio.wait_for(reader.readline(), REQUEST_TIMEOUT)
    words = line.split()
    if words == [b"UP"]:
        n = await _discard_until_eof(reader)
        writer.write(b"OK %d\n" % n)
        writer.write_eof()
        return f"received {n} bytes"
    if len(words) == 2 and words[0] == b"DOWN" and words[1].isdigit():
        size = int(words[1]) or None
        stop = asyncio.ensure_future(_discard_until_eof(reader))
        block = os.urandom(CHUNK)
        sent = 0
        try:
            while (size is None or sent < size) and not stop.done():
                n = CHUNK if size is None else min(CHUNK, size - sent)
                writer.write(block[:n])
                await writer.drain()
                sent += n
            writer.write_eof()
            await stop
        finally:
            stop.cancel()
        return f"sent {sent} bytes"
    writer.write(b"ERR expected UP or DOWN <bytes>\n")
    writer.write_eof()
    return f"bad request {line[:40]!r}"


async def _bench_server(args: argparse.Namespace) -> int:
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peer_b32"))[:16]
        try:
            log.info("stream from %s: %s", peer, await _serve_stream(reader, writer))
        except (ConnectionError, TimeoutError) as exc:
            log.info("stream from %s: %s", peer, exc or type(exc).__name__)
        finally:
            writer.close()

    def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(tasks) >= MAX_STREAMS:
            writer.transport.abort()
            return
        task = asyncio.ensure_future(handle(reader, writer))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async with command_session(args) as session:
        try:
            server = await session.start_server(accepted, args.port)
            print(f"bench-server on {session.b32} port {args.port}", file=sys.stderr, flush=True)
            try:
                await asyncio.Event().wait()  # until Ctrl-C or SIGTERM
            finally:
                server.close()
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.gather(*tasks, return_exceptions=True)
    return 0  # pragma: no cover - only a signal ends it


def run_bench(args: argparse.Namespace) -> int:
    """Run ``bench``: 0 with the results, 1 when a transfer failed, 2 for bad arguments."""
    return run_command("bench", lambda: _bench(args))


def run_bench_server(args: argparse.Namespace) -> int:
    """Run ``bench-server`` until Ctrl-C (exit 130)."""
    return run_command("bench-server", lambda: _bench_server(args))
