"""``i2p-streaming connect DEST PORT`` and ``listen PORT``: netcat over I2P.

stdin goes to the stream and the stream to stdout; stdin's end half-closes the stream (CLOSE
after the data) while the other direction keeps flowing until the peer's CLOSE. Exit 0 when
both directions ended cleanly, 1 with one line on stderr when the stream was refused or
reset, 2 for bad arguments or an unusable router, 130 after Ctrl-C (SIGINT) or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import select
import stat
import sys
from typing import Any

from i2p_streaming.aio import Session
from i2p_streaming.cli.common import (
    CommandError,
    add_keys_option,
    command_session,
    connect_or_exit,
    destination_arg,
    port_arg,
    run_command,
)
from i2p_streaming.cli.progress import Progress

__all__ = ["StdinSource", "register", "relay", "write_all"]

log = logging.getLogger("i2p_streaming.cli")

CHUNK = 64 * 1024
#: Accepted streams waiting while ``listen --keep`` serves one (more are reset).
LISTEN_BACKLOG = 16


def register(subparsers: Any) -> None:
    """Add the ``connect`` and ``listen`` subcommands."""
    p = subparsers.add_parser(
        "connect",
        help="netcat: stdin to a stream to DEST:PORT, the stream to stdout",
        description="Open a stream to DEST (NAME.b32.i2p, NAME.i2p, base64) port PORT; copy "
        "stdin to it (its end half-closes the stream) and the stream to stdout.",
    )
    p.add_argument("dest", type=destination_arg, metavar="DEST")
    p.add_argument("port", type=port_arg, metavar="PORT")
    p.add_argument("--timeout", type=float, default=60.0, help="connect timeout, seconds (60)")
    p.set_defaults(run=run_connect)
    q = subparsers.add_parser(
        "listen",
        help="netcat: accept a stream on PORT, stdin to it and it to stdout",
        description="Accept streams on PORT and print the address (b32) on stderr; copy stdin "
        "to the stream and the stream to stdout. --keys FILE gives a stable address.",
    )
    q.add_argument("port", type=port_arg, metavar="PORT")
    add_keys_option(q)
    mode = q.add_mutually_exclusive_group()
    mode.add_argument("--once", dest="keep", action="store_false", help="one stream (default)")
    mode.add_argument(
        "--keep", dest="keep", action="store_true", help="keep accepting, one stream at a time"
    )
    q.set_defaults(run=run_listen, keep=False)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd``, waiting when a non-blocking fd is full."""
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[n:]


class StdinSource:
    """Chunks of stdin: a pipe, socket or terminal through the event loop; anything else (a
    regular file, /dev/null) read directly. b"" at the end, and at every read after it."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._reader: asyncio.StreamReader | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._eof = False
        self._blocking = os.get_blocking(fd)

    async def start(self) -> None:
        """Attach a pipe-like stdin to the loop (nothing for a regular file)."""
        mode = os.fstat(self._fd).st_mode
        if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(self._fd)):
            return  # a regular file or /dev/null: the selector cannot watch it
        loop = asyncio.get_running_loop()
        self._reader = asyncio.StreamReader(limit=CHUNK, loop=loop)
        protocol = asyncio.StreamReaderProtocol(self._reader, loop=loop)
        pipe = os.fdopen(os.dup(self._fd), "rb", buffering=0)
        self._transport, _ = await loop.connect_read_pipe(lambda: protocol, pipe)

    async def read(self) -> bytes:
        """The next chunk (up to 64 KiB), or b"" at the end."""
        if self._eof:
            return b""
        data = os.read(self._fd, CHUNK) if self._reader is None else await self._reader.read(CHUNK)
        self._eof = not data
        return data

    def close(self) -> None:
        """Detach from the loop and give the fd back its blocking mode."""
        if self._transport is not None:
            self._transport.close()
        with contextlib.suppress(OSError):
            os.set_blocking(self._fd, self._blocking)


async def relay(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    source: StdinSource,
    out_fd: int,
    progress: Progress | None = None,
) -> None:
    """Copy ``source`` to ``writer`` (then half-close) and ``reader`` to ``out_fd`` until both
    ended; ``progress`` (if any) shows the bytes of both directions. Raises the first
    ``OSError`` of either direction (e.g. ``ConnectionResetError``)."""
    moved = 0

    def count(n: int) -> None:
        nonlocal moved
        moved += n
        if progress is not None:
            progress.update(moved)

    async def upstream() -> None:
        while data := await source.read():
            writer.write(data)
            await writer.drain()
            count(len(data))
        writer.write_eof()

    async def downstream() -> None:
        while data := await reader.read(CHUNK):
            write_all(out_fd, data)
            count(len(data))

    tasks = [asyncio.ensure_future(upstream()), asyncio.ensure_future(downstream())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()
        await asyncio.gather(*tasks)
        if progress is not None:
            progress.done(moved)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _progress(args: argparse.Namespace) -> Progress | None:
    """A progress line of the bytes in and out at ``-v`` when stderr is a terminal."""
    if args.verbose and sys.stderr.isatty():
        return Progress("in+out", sys.stderr)
    return None


def _stream_error(exc: OSError) -> CommandError:
    if isinstance(exc, ConnectionResetError):
        return CommandError(f"stream reset: {exc}" if str(exc) else "stream reset by the peer")
    return CommandError(str(exc) or type(exc).__name__)


async def _connect(args: argparse.Namespace) -> int:
    source = StdinSource(sys.stdin.fileno())
    try:
        async with command_session(args) as session:
            await source.start()
            reader, writer = await connect_or_exit(session, args.dest, args.port, args.timeout)
            log.info("connected to %s port %d", writer.get_extra_info("peer_b32"), args.port)
            try:
                await relay(reader, writer, source, sys.stdout.fileno(), _progress(args))
            except OSError as exc:
                raise _stream_error(exc) from None
            finally:
                writer.close()
    finally:
        source.close()
    return 0


async def _listen(args: argparse.Namespace) -> int:
    source = StdinSource(sys.stdin.fileno())
    try:
        async with command_session(args) as session:
            return await _serve_streams(session, source, args)
    finally:
        source.close()


async def _serve_streams(session: Session, source: StdinSource, args: argparse.Namespace) -> int:
    """Relay the streams to ``args.port`` one at a time (only the first unless ``--keep``)."""
    queue: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
    queue = asyncio.Queue(LISTEN_BACKLOG)

    def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            queue.put_nowait((reader, writer))
        except asyncio.QueueFull:
            writer.transport.abort()

    status = 0
    try:
        await source.start()
        server = await session.start_server(accepted, args.port)
        print(f"listening on {session.b32} port {args.port}", file=sys.stderr, flush=True)
        while True:
            reader, writer = await queue.get()
            if not args.keep:
                server.close()
            log.info("stream from %s", writer.get_extra_info("peer_b32"))
            try:
                await relay(reader, writer, source, sys.stdout.fileno(), _progress(args))
                status = 0
            except OSError as exc:
                if not args.keep:
                    raise _stream_error(exc) from None
                print(f"listen: {_stream_error(exc)}", file=sys.stderr, flush=True)
                status = 1
            finally:
                writer.close()
            if not args.keep:
                return status
    finally:
        while not queue.empty():
            queue.get_nowait()[1].transport.abort()


def run_connect(args: argparse.Namespace) -> int:
    """Run ``connect``; the exit status as the module docstring says."""
    return run_command("connect", lambda: _connect(args))


def run_listen(args: argparse.Namespace) -> int:
    """Run ``listen``; the exit status as the module docstring says."""
    return run_command("listen", lambda: _listen(args))
