"""What the tunnels and proxies share: local addresses, the bounded set of connection
tasks, starting lines and serving until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable
from typing import Any, Protocol

from i2p_streaming.aio import Session
from i2p_streaming.cli.common import CLOSE_TIMEOUT, arg_type
from i2p_streaming.cli.splice import CHUNK, SpliceResult, abort

__all__ = [
    "CLOSE_TIMEOUT",
    "CONNECT_TIMEOUT",
    "MAX_CONNS",
    "ConnectionSet",
    "LocalProxy",
    "Service",
    "announce",
    "format_address",
    "hostport_arg",
    "log_end",
    "max_conns_arg",
    "parse_hostport",
    "run_connection",
    "seconds_arg",
    "serve_forever",
]

#: Connections one tunnel serves at once; more are closed (TCP) or reset (I2P) at once.
MAX_CONNS = 256
#: Seconds to open the stream (client tunnel) or the TCP connection (server tunnel).
CONNECT_TIMEOUT = 60.0


def parse_hostport(text: str, *, allow_zero: bool = True) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPv6]:PORT`` -> ``(host, port)``; port 0 (any free port) only with
    ``allow_zero``. ValueError with the reason."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not host:
        raise ValueError(f"invalid address {text!r}: expected HOST:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_text, 10)
    except ValueError:
        raise ValueError(f"invalid port in {text!r}: not an integer") from None
    low = 0 if allow_zero else 1
    if not low <= port < 65536:
        raise ValueError(f"invalid port in {text!r}: must be {low}-65535")
    return host, port


hostport_arg = arg_type(parse_hostport, "address")

#: Most connections ``--max-conns`` allows for one tunnel or proxy.
MAX_CONNS_LIMIT = 10_000


def _max_conns(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise ValueError(f"invalid connection count {text!r}: not an integer") from None
    if not 1 <= value <= MAX_CONNS_LIMIT:
        raise ValueError(f"invalid connection count {text!r}: must be 1-{MAX_CONNS_LIMIT}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"invalid timeout {text!r}: expected seconds, e.g. 30") from None
    if not 0 < value < 86_400:
        raise ValueError(f"invalid timeout {text!r}: must be more than 0 and under a day")
    return value


max_conns_arg = arg_type(_max_conns, "connection count")
seconds_arg = arg_type(_seconds, "seconds")


def format_address(address: tuple[Any, ...]) -> str:
    """``HOST:PORT`` (``[HOST]:PORT`` for IPv6) of a socket address."""
    host, port = str(address[0]), int(address[1])
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class ConnectionSet:
    """The connection tasks of one tunnel or proxy, at most ``limit`` at once."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def admit(self) -> bool:
        """Add the running task if there is room (removed again when it ends); False when
        ``limit`` connections are served already."""
        task = asyncio.current_task()
        if task is None or len(self._tasks) >= self._limit:
            return False
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def wait_empty(self) -> None:
        """Wait until no connection is being served."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def close(self) -> None:
        """Cancel every connection task and wait for them."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_connection(handler: Awaitable[None], writer: asyncio.StreamWriter) -> None:
    """Await a connection's ``handler``; when :meth:`ConnectionSet.close` cancels it, abort
    ``writer`` and return normally (Python 3.11's StreamReaderProtocol logs a cancelled
    callback task as an error with a traceback)."""
    try:
        await handler
    except asyncio.CancelledError:
        abort(writer)


class LocalProxy:
    """What the SOCKS and HTTP proxies share: a local TCP listener on ``bind`` whose
    connections (at most ``max_conns`` at once; more are aborted) become streams of
    ``session``. A subclass names itself in :attr:`kind` and serves an admitted connection
    in :meth:`serve`."""

    #: The first word of the proxy's log lines.
    kind = "proxy"

    def __init__(
        self,
        session: Session,
        bind: tuple[str, int],
        *,
        max_conns: int = MAX_CONNS,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self._session = session
        self._bind = bind
        self._timeout = connect_timeout
        self._conns = ConnectionSet(max_conns)
        self._server: asyncio.Server | None = None
        self._log = logging.getLogger(type(self).__module__)

    async def start(self) -> tuple[str, int]:
        """Listen; the address bound (``OSError`` when it cannot be bound)."""
        self._server = await asyncio.start_server(self._accepted, *self._bind, limit=CHUNK)
        bound = self._server.sockets[0].getsockname()
        return str(bound[0]), int(bound[1])

    async def close(self) -> None:
        """Stop listening and abort every connection."""
        if self._server is not None:
            self._server.close()
        await self._conns.close()

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await run_connection(self._admit(reader, writer), writer)

    async def _admit(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = format_address(writer.get_extra_info("peername") or ("?", 0))
        if not self._conns.admit():
            self._log.warning(
                "%s %s: refused, %d connections already", self.kind, peer, len(self._conns)
            )
            abort(writer)
            return
        await self.serve(reader, writer, peer)

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        """Serve one admitted connection from ``peer`` (the subclass's protocol)."""
        raise NotImplementedError


def log_end(log: logging.Logger, what: str, result: SpliceResult, seconds: float) -> None:
    """The one line (INFO, shown at ``-v``) of a connection that ended."""
    how = "closed" if result.error is None else f"aborted ({result.error})"
    log.info("%s: %s, %d B out, %d B in, %.2f s", what, how, result.a_to_b, result.b_to_a, seconds)


class Service(Protocol):
    """A running tunnel or proxy."""

    async def close(self) -> None:
        """Stop accepting and end every connection."""


def announce(line: str) -> None:
    """Print a tunnel's start line on stderr (tests and scripts read it)."""
    print(line, file=sys.stderr, flush=True)


async def serve_forever(closers: list[Service], sessions: list[Session]) -> int:
    """Wait until cancelled (Ctrl-C), then close the tunnels and sessions."""
    try:
        await asyncio.Event().wait()
    finally:
        for closer in closers:
            with contextlib.suppress(Exception):
                await closer.close()
        for session in sessions:
            await session.close(timeout=CLOSE_TIMEOUT)
    return 0  # pragma: no cover - only cancellation ends the wait
