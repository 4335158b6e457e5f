"""A port that answers SAM or HTTP instead of I2CP is named in the error (no real router)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from i2p_streaming.aio.probe import identify_service
from i2p_streaming.cli import common
from i2p_streaming.cli.common import CommandError, open_session

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _sam(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    line = await reader.readline()
    if line.startswith(b"HELLO VERSION"):
        writer.write(b"HELLO REPLY RESULT=OK VERSION=3.1\n")
        await writer.drain()
    writer.close()  # anything else (I2CP's 0x2a) is dropped at once


async def _http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(asyncio.IncompleteReadError):
        await reader.readuntil(b"\r\n\r\n")  # I2CP bytes never end a request: it waits
        writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        await writer.drain()
    writer.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()
    writer.close()


@contextlib.asynccontextmanager
async def _server(handler: Handler) -> AsyncIterator[tuple[str, int]]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[:2]
    finally:
        server.close()
        await server.wait_closed()


def _args(address: tuple[str, int]) -> argparse.Namespace:
    return argparse.Namespace(i2cp_router=address, options=[])


@pytest.mark.parametrize(("handler", "name"), [(_sam, "SAM"), (_http, "HTTP"), (_silent, None)])
async def test_identify_service(handler: Handler, name: str | None) -> None:
    async with _server(handler) as (host, port):
        assert await identify_service(host, port, timeout=0.5) == name


@pytest.mark.parametrize(
    ("handler", "wanted"),
    [
        (_sam, "answers like a SAM bridge, not I2CP (the I2CP port is usually 7654)"),
        (_http, "is not an I2CP router (it answered HTTP)"),
    ],
)
async def test_open_session_names_the_wrong_service(
    handler: Handler, wanted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "PROBE_AFTER", 0.3)
    async with _server(handler) as (host, port):
        with pytest.raises(CommandError) as info:
            await asyncio.wait_for(open_session(_args((host, port))), 20)
    assert info.value.status == 2
    assert str(info.value) == f"{host}:{port} {wanted}"
