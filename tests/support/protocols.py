"""asyncio protocols for tests: a :class:`Recorder` that records everything a stream does,
and :func:`connected`, a client transport plus the server-side protocol."""

from __future__ import annotations

import asyncio

from i2p_streaming.aio import Session, StreamTransport


class Recorder(asyncio.Protocol):
    """Records everything; futures for the end of input and the end of the stream."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.data = bytearray()
        self.transport: StreamTransport | None = None
        self.got_data: asyncio.Future[None] = loop.create_future()
        self.eof: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[Exception | None] = loop.create_future()
        self.paused = 0
        self.resumed = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, StreamTransport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.data += data
        if not self.got_data.done():
            self.got_data.set_result(None)

    def eof_received(self) -> bool:
        self.eof.set_result(None)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set_result(exc)

    def pause_writing(self) -> None:
        self.paused += 1

    def resume_writing(self) -> None:
        self.resumed += 1


async def connected(
    a: Session, b: Session, port: int, server_factory: type[asyncio.Protocol] = Recorder
) -> tuple[StreamTransport, Recorder, asyncio.Future[asyncio.Protocol]]:
    """A client transport to ``b``:``port`` plus a future of the server-side protocol."""
    accepted: asyncio.Future[asyncio.Protocol] = asyncio.get_running_loop().create_future()

    def factory() -> asyncio.Protocol:
        proto = server_factory()
        if not accepted.done():
            accepted.set_result(proto)
        return proto

    await b.create_server(factory, port)
    transport, protocol = await a.create_connection(Recorder, b.destination, port)
    assert isinstance(protocol, Recorder)
    return transport, protocol, accepted
