"""One stream's transfer: the client and server halves, every byte checked at both ends.

The client opens the stream and sends a header (stream index, byte counts, mode); the data of
each direction is a seeded pseudo-random buffer known to both ends (one process), so the
receiver compares every chunk with what was sent at that offset (the first wrong byte is a
:class:`CorruptionError` at once) and at EOF checks the length and the sha256 of the whole.
An EOF before the last byte is a corruption too (a silent truncation).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.reliability.cells import Mode

__all__ = ["CorruptionError", "Progress", "Server", "StreamRecord", "Verifier", "client", "payload"]

CHUNK = 64 * 1024
_HEADER = struct.Struct(">IQQB")
_MODES = list(Mode)


class CorruptionError(Exception):
    """A received byte, length or digest differs from what was sent."""


class Progress:
    """Counts payload bytes received at either end (all streams); wakes waiters at a fraction
    of the expected total."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.received = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    def add(self, nbytes: int) -> None:
        self.received += nbytes
        for entry in list(self._waiters):
            threshold, fut = entry
            if self.received >= threshold:
                self._waiters.remove(entry)
                if not fut.done():
                    fut.set_result(None)

    async def reached(self, fraction: float) -> None:
        """Return once ``fraction`` of the expected bytes arrived."""
        threshold = int(self.total * fraction)
        if self.received >= threshold:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((threshold, fut))
        await fut


class Verifier:
    """Checks a byte stream against ``expected``, chunk by chunk, then at EOF."""

    def __init__(self, expected: bytes, progress: Progress, what: str) -> None:
        self.expected = expected
        self.digest = hashlib.sha256(expected).digest()
        self.progress = progress
        self.what = what
        self.offset = 0
        self._sha = hashlib.sha256()

    def feed(self, chunk: bytes) -> None:
        """Check ``chunk`` at the current offset; raises :class:`CorruptionError`."""
        end = self.offset + len(chunk)
        if end > len(self.expected):
            raise CorruptionError(f"{self.what}: {end} bytes received, {len(self.expected)} sent")
        if self.expected[self.offset : end] != chunk:
            first = next(i for i, b in enumerate(chunk) if b != self.expected[self.offset + i])
            raise CorruptionError(f"{self.what}: wrong byte at offset {self.offset + first}")
        self._sha.update(chunk)
        self.offset = end
        self.progress.add(len(chunk))

    def finish(self) -> None:
        """At EOF: every byte arrived and the sha256 matches; raises :class:`CorruptionError`."""
        if self.offset != len(self.expected):
            raise CorruptionError(
                f"{self.what}: EOF after {self.offset} of {len(self.expected)} bytes"
            )
        if self._sha.digest() != self.digest:
            raise CorruptionError(f"{self.what}: sha256 mismatch")

    async def read_to_eof(self, reader: asyncio.StreamReader) -> None:
        while chunk := await reader.read(CHUNK):
            self.feed(chunk)
        self.finish()


def payload(seed: int, index: int, direction: str, size: int) -> bytes:
    """The seeded data of one direction of stream ``index``."""
    return random.Random(f"{seed}/{index}/{direction}").randbytes(size)


@dataclass(eq=False)
class StreamRecord:
    """Both halves of stream ``index``: what is sent each way, the writers (for stats) and
    how each end finished (``None``: still running; an exception or ``"ok"``)."""

    index: int
    mode: Mode
    up: bytes
    down: bytes
    client_writer: asyncio.StreamWriter | None = None
    server_writer: asyncio.StreamWriter | None = None
    server_done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    opened: bool = False

    def header(self) -> bytes:
        return _HEADER.pack(self.index, len(self.up), len(self.down), _MODES.index(self.mode))


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        writer.write(view[start : start + CHUNK])
        await writer.drain()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    await writer.wait_closed()


async def client(
    record: StreamRecord,
    progress: Progress,
    connect: Callable[[], Any],
    on_open: Callable[[], None],
) -> None:
    """The client half: ``connect()`` returns ``open_connection(...)``'s coroutine; then the
    transfer of ``record.mode``, the stream close, and waiting for the server half."""
    reader, writer = await connect()
    record.client_writer = writer
    record.opened = True
    on_open()
    writer.write(record.header())
    back = Verifier(record.down, progress, f"stream {record.index} server->client")
    if record.mode is Mode.ECHO:
        receiving = asyncio.ensure_future(back.read_to_eof(reader))
        try:
            await _send(writer, record.up)
            writer.write_eof()
            await receiving
        finally:
            receiving.cancel()
    elif record.mode is Mode.SERVER_FIRST:
        await back.read_to_eof(reader)
        await _send(writer, record.up)
        writer.write_eof()
    else:  # UPLOAD, DOWNLOAD: client closes its side first
        await _send(writer, record.up)
        writer.write_eof()
        await back.read_to_eof(reader)
    await _close(writer)
    await record.server_done


class Server:
    """The server half for every stream of a cell (``start_server``'s callback)."""

    def __init__(self, records: dict[int, StreamRecord], progress: Progress) -> None:
        self.records = records
        self.progress = progress
        self.errors: list[BaseException] = []

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        record: StreamRecord | None = None
        try:
            head = await reader.readexactly(_HEADER.size)
            index, up, down, mode = _HEADER.unpack(head)
            record = self.records.get(index)
            if record is None or (up, down, mode) != (
                len(record.up),
                len(record.down),
                _MODES.index(record.mode),
            ):
                raise CorruptionError(f"bad stream header {head.hex()}")
            record.server_writer = writer
            await self._serve(record, reader, writer)
            await _close(writer)
        except BaseException as exc:
            self.errors.append(exc)
            if record is not None and not record.server_done.done():
                record.server_done.set_exception(exc)
            writer.transport.abort()
            if not isinstance(exc, Exception):
                raise
        else:
            if not record.server_done.done():
                record.server_done.set_result(None)

    async def _serve(
        self, record: StreamRecord, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        got = Verifier(record.up, self.progress, f"stream {record.index} client->server")
        if record.mode is Mode.ECHO:
            while chunk := await reader.read(CHUNK):
                got.feed(chunk)
                writer.write(chunk)
                await writer.drain()
            got.finish()
            writer.write_eof()
        elif record.mode is Mode.SERVER_FIRST:
            await _send(writer, record.down)
            writer.write_eof()
            await got.read_to_eof(reader)
        else:
            await got.read_to_eof(reader)
            await _send(writer, record.down)
            writer.write_eof()
