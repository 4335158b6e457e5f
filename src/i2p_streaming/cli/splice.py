"""Copying between two stream pairs (TCP and I2P) in both directions, for tunnels and proxies.

Each direction copies up to :data:`CHUNK` bytes at a time and waits for the writer to drain
before it reads more, so nothing is buffered beyond the transports' own limits. The end of
one direction (EOF) is passed on as a half-close (``write_eof``: a TCP FIN, an I2P CLOSE)
while the other direction keeps flowing; an error on either side (a reset) aborts both.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

__all__ = ["CHUNK", "SpliceResult", "abort", "splice"]

CHUNK = 64 * 1024

Pair = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass(frozen=True, slots=True)
class SpliceResult:
    """What :func:`splice` moved: bytes from ``a`` to ``b`` and from ``b`` to ``a``, and the
    error that ended it (None when both directions ended with EOF)."""

    a_to_b: int
    b_to_a: int
    error: str | None


def abort(writer: asyncio.StreamWriter) -> None:
    """End ``writer``'s connection at once (a TCP close without FIN wait, an I2P RESET)."""
    with contextlib.suppress(Exception):
        writer.transport.abort()


def _collect_close(writer: asyncio.StreamWriter) -> None:
    """Take the connection's end result when it comes (a reset's ConnectionResetError),
    without waiting for it: asyncio otherwise may log it as "never retrieved"."""
    closing = asyncio.ensure_future(writer.wait_closed())
    closing.add_done_callback(lambda t: t.cancelled() or t.exception())


async def _copy(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, moved: list[int]
) -> None:
    while data := await reader.read(CHUNK):
        writer.write(data)
        moved[0] += len(data)
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()
    else:
        writer.close()


async def splice(a: Pair, b: Pair) -> SpliceResult:
    """Copy ``a``'s reader to ``b``'s writer and ``b``'s reader to ``a``'s writer until both
    directions ended; each EOF becomes a half-close of the other side. Then both writers are
    closed (aborted after an error in either direction, or when cancelled). Never raises
    ``OSError``: the error is in the result."""
    forward, backward = [0], [0]
    tasks = [
        asyncio.ensure_future(_copy(a[0], b[1], forward)),
        asyncio.ensure_future(_copy(b[0], a[1], backward)),
    ]
    error: str | None = None
    clean = False
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, OSError):
                raise exc
            if exc is not None:
                error = str(exc) or type(exc).__name__
        if error is None:
            for exc in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(exc, OSError):
                    error = str(exc) or type(exc).__name__
                elif isinstance(exc, BaseException):
                    raise exc
        clean = error is None
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for writer in (a[1], b[1]):
            if clean:
                with contextlib.suppress(Exception):
                    writer.close()
            else:
                abort(writer)
            _collect_close(writer)
    return SpliceResult(forward[0], backward[0], error)
