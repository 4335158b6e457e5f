"""``i2p-streaming demo``: an echo transfer between two sessions, checked byte for byte.

By default it starts the embedded router with I2P-like impairments (300 ms one-way delay,
30 ms jitter, 1 % loss); ``--router HOST:PORT`` runs the same against a real router (with
zero-hop tunnels unless ``--hops`` says otherwise). It prints a progress line, then the
sha256 check, a ping RTT, goodput, retransmissions and window; exit status 0 on success,
1 with a message on failure, 130 after Ctrl-C (streams and sessions closed first).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import sys
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TextIO

from i2p_streaming.aio import Session, create_session
from i2p_streaming.cli.common import EXIT_INTERRUPTED, run_command
from i2p_streaming.errors import I2CPError
from i2p_streaming.router import (
    EmbeddedRouter,
    Impairments,
    parse_duration,
    parse_probability,
    parse_size,
)

__all__ = ["register", "run", "run_demo"]

ECHO_PORT = 7
CHUNK = 16 * 1024


def _arg(parse: Any) -> Any:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def register(subparsers: Any) -> None:
    """Add the ``demo`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "demo",
        help="echo a few MB between two sessions and check every byte",
        description="Start the embedded router with I2P-like impairments (or use --router), "
        "open two sessions, echo --size bytes through a stream, verify the sha256, ping, "
        "and print RTT, goodput, retransmissions and window.",
    )
    p.add_argument("--size", type=_arg(parse_size), default=2_000_000, help="bytes (2MB)")
    p.add_argument("--router", default=None, metavar="HOST:PORT", help="use this I2CP router")
    p.add_argument("--hops", type=int, default=0, help="tunnel length on a real router (0)")
    p.add_argument("--delay", type=_arg(parse_duration), default=0.3, help="one-way (300ms)")
    p.add_argument("--jitter", type=_arg(parse_duration), default=0.03, help="jitter (30ms)")
    p.add_argument("--loss", type=_arg(parse_probability), default=0.01, help="loss (1%%)")
    p.add_argument(
        "--mtu",
        type=int,
        default=1812,
        help="largest stream packet payload (1812: Java's for ECIES-only destinations; 1730 "
        "is the other usual value)",
    )
    p.add_argument("--seed", type=int, default=None, help="impairment seed (embedded router)")
    p.add_argument("--timeout", type=_arg(parse_duration), default=120.0, help="give up (120s)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; return the exit status (0 ok, 1 failure, 130 after Ctrl-C/SIGTERM)."""

    def demo() -> Coroutine[Any, Any, int]:
        return _bounded(
            run_demo(
                size=args.size,
                router=args.router,
                hops=args.hops,
                impairments=Impairments(delay=args.delay, jitter=args.jitter, loss=args.loss),
                seed=args.seed,
                stream_options={"i2p.streaming.maxMessageSize": str(args.mtu)},
            ),
            args.timeout,
        )

    status = run_command("i2p-streaming demo", demo)
    if status == EXIT_INTERRUPTED:  # Ctrl-C/SIGTERM: the streams and sessions are closed
        print("\ndemo interrupted", file=sys.stderr, flush=True)
    return status


async def _bounded(demo: Coroutine[Any, Any, int], limit: float) -> int:
    """Run ``demo`` for at most ``limit`` seconds; a failure is printed as what failed (the
    overall limit only when that is what ran out)."""
    try:
        async with asyncio.timeout(limit) as scope:
            return await demo
    except TimeoutError as exc:
        if scope.expired():
            print(f"\ndemo FAILED: not finished within {limit:g} s", file=sys.stderr)
        else:
            print(f"\ndemo FAILED: {exc or 'timed out'}", file=sys.stderr)
    except (I2CPError, OSError) as exc:
        print(f"\ndemo FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 1


@contextlib.asynccontextmanager
async def _router(
    address: str | None, impairments: Impairments, seed: int | None, out: TextIO
) -> AsyncIterator[str]:
    if address is not None:
        print(f"I2CP router {address}", file=out)
        yield address
        return
    async with EmbeddedRouter(impairments=impairments, seed=seed) as router:
        host, port = router.address
        print(
            f"embedded I2CP router on {host}:{port} (delay {impairments.delay * 1000:g} ms, "
            f"jitter {impairments.jitter * 1000:g} ms, loss {impairments.loss * 100:g} %)",
            file=out,
        )
        yield f"{host}:{port}"


def _mb(n: float) -> str:
    return f"{n / 1e6:.2f} MB"


class _Progress:
    """A progress bar: a ``\\r`` line redrawn at most ten times a second on a terminal; without
    one (CI logs, pipes), a plain line at every tenth of the way."""

    def __init__(self, total: int, out: TextIO) -> None:
        self.total = total
        self.out = out
        self.start = time.monotonic()
        self._last = 0.0
        self._tty = out.isatty()
        self._tenths = -1

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if self._tty:
            if not force and now - self._last < 0.1:
                return
        else:
            tenths = done * 10 // self.total if self.total else 10
            if tenths == self._tenths:
                return
            self._tenths = tenths
        self._last = now
        frac = done / self.total if self.total else 1.0
        bar = "#" * int(frac * 30)
        rate = done / max(now - self.start, 1e-9)
        lead, end = ("\r", "") if self._tty else ("", "\n")
        self.out.write(
            f"{lead}[{bar:<30}] {frac * 100:5.1f}%  {_mb(done)} / {_mb(self.total)}  "
            f"{rate / 1e3:7.1f} kB/s{end}"
        )
        self.out.flush()


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.write_eof()
        await writer.wait_closed()
    except ConnectionError:
        writer.transport.abort()
        # collect the reset from the stream's close result too, or asyncio logs it at exit
        # ("Future exception was never retrieved", seen after Ctrl-C in a transfer)
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def run_demo(
    *,
    size: int,
    router: str | None = None,
    hops: int = 0,
    impairments: Impairments | None = None,
    seed: int | None = None,
    stream_options: dict[str, str] | None = None,
    out: TextIO | None = None,
    ping_timeout: float = 10.0,
) -> int:
    """Echo ``size`` random bytes between two sessions and report; 0 on success, 1 when the
    echo differs. A final ping (retried for ``ping_timeout`` s) that gets no answer is
    reported, not a failure. Raises ``OSError``/:class:`I2CPError` on network or router
    failures (``TimeoutError`` says which step timed out)."""
    out = out or sys.stdout
    impairments = impairments or Impairments(delay=0.3, jitter=0.03, loss=0.01)
    options: dict[str, str] = {}
    if router is not None:
        length = str(hops)
        options = {
            "inbound.length": length,
            "outbound.length": length,
            "inbound.quantity": "1" if hops == 0 else "2",
            "outbound.quantity": "1" if hops == 0 else "2",
        }
    options.update(stream_options or {})
    started = time.monotonic()
    async with (
        _router(router, impairments, seed, out) as address,
        create_session(address, options=options) as server_session,
        create_session(address, options=options) as client_session,
    ):
        return await _transfer(server_session, client_session, size, out, started, ping_timeout)


async def _transfer(
    server_session: Session,
    client_session: Session,
    size: int,
    out: TextIO,
    started: float,
    ping_timeout: float,
) -> int:
    print(f"server  {server_session.b32} (echo on port {ECHO_PORT})", file=out)
    print(f"client  {client_session.b32}", file=out)
    server = await server_session.start_server(_echo, ECHO_PORT)
    t0 = time.monotonic()
    reader, writer = await client_session.open_connection(
        server_session.destination, ECHO_PORT, timeout=60
    )
    print(f"connected in {time.monotonic() - t0:.2f} s", file=out)
    data = os.urandom(size)
    sent_digest = hashlib.sha256(data).hexdigest()
    progress = _Progress(size, out)
    t_start = time.monotonic()

    async def send() -> None:
        view = memoryview(data)
        for off in range(0, size, CHUNK):
            writer.write(view[off : off + CHUNK])
            await writer.drain()
        writer.write_eof()

    sender = asyncio.create_task(send())
    digest = hashlib.sha256()
    received = 0
    try:
        while chunk := await reader.read(65536):
            digest.update(chunk)
            received += len(chunk)
            progress.update(received)
        await sender
    except BaseException:  # Ctrl-C (cancelled) or a failure: reset the stream, stop sending
        writer.transport.abort()
        sender.cancel()
        with contextlib.suppress(BaseException):
            await sender
        raise
    progress.update(received, force=True)
    elapsed = time.monotonic() - t_start
    if out.isatty():
        print(file=out)  # end the \r line
    stats = writer.get_extra_info("stats")
    writer.close()
    await writer.wait_closed()
    server.close()
    if received != size or digest.hexdigest() != sent_digest:
        print(
            f"echo MISMATCH: sent {size} bytes sha256 {sent_digest[:16]}…, got {received} "
            f"bytes sha256 {digest.hexdigest()[:16]}…",
            file=out,
        )
        return 1
    print(f"echo verified: {_mb(size)} sha256 {sent_digest[:16]}… matches", file=out)
    try:
        rtt = await client_session.ping(server_session.destination, timeout=ping_timeout)
        print(f"ping RTT        {rtt * 1000:.0f} ms", file=out)
    except TimeoutError as exc:  # the echo verified: a lost ping is reported, not fatal
        print(f"ping RTT        n/a ({exc})", file=out)
    print(f"goodput         {size / elapsed / 1e3:.1f} kB/s each way ({elapsed:.2f} s)", file=out)
    if stats is not None:
        srtt = f"{stats.rtt * 1000:.0f} ms" if stats.rtt is not None else "n/a"
        print(f"stream RTT      {srtt} (RTO {stats.rto * 1000:.0f} ms)", file=out)
        print(
            f"packets         {stats.packets_sent} sent, {stats.packets_retransmitted} "
            f"retransmitted ({100 * stats.packets_retransmitted / max(stats.packets_sent, 1):.1f}"
            f" %), {stats.packets_received} received",
            file=out,
        )
        print(f"window          {stats.window} packets of {stats.mtu} bytes", file=out)
    print(f"demo OK in {time.monotonic() - started:.1f} s", file=out)
    return 0
