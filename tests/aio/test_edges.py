"""Edge and error paths of the asyncio front end: what a user sees after close/abort, transport
accessors, buffer limits, server lifecycle, create_session arguments."""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import ssl

import pytest

from i2p_streaming.aio import Session, StreamTransport, create_session
from i2p_streaming.aio.config import (
    looks_like_base64_destination,
    parse_router,
    split_options,
    stream_options,
    tls_context,
)
from i2p_streaming.data import PrivateKeys
from i2p_streaming.router import Impairments
from i2p_streaming.streaming import StreamOptions, StreamStats
from tests.aio.conftest import address
from tests.support.embedded import RouterTarget

pytestmark = pytest.mark.timeout(30)


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


# ---------------------------------------------------------------------- transport after close


async def test_write_after_close_and_abort_raise_broken_pipe(pair: tuple[Session, Session]) -> None:
    a, b = pair
    transport, protocol, _ = await connected(a, b, 40)
    transport.close()
    assert transport.is_closing()
    with pytest.raises(BrokenPipeError, match="closed"):
        transport.write(b"late")
    with pytest.raises(BrokenPipeError):
        transport.writelines([b"a", b"b"])
    transport.close()  # idempotent
    transport.write_eof()  # no-op after close
    assert await asyncio.wait_for(protocol.lost, 10) is None
    assert not transport.is_reading()
    transport.abort()  # no-op once lost
    with pytest.raises(BrokenPipeError):
        transport.write(b"x")

    t2, p2, _ = await connected(a, b, 41)
    t2.abort()
    with pytest.raises(BrokenPipeError):
        t2.write(b"after abort")
    assert await asyncio.wait_for(p2.lost, 5) is None


async def test_write_after_peer_reset_raises_connection_reset(
    pair: tuple[Session, Session],
) -> None:
    a, b = pair
    transport, protocol, accepted = await connected(a, b, 42)
    transport.write(b"hi")
    server_proto = await asyncio.wait_for(accepted, 10)
    assert isinstance(server_proto, Recorder) and server_proto.transport is not None
    server_proto.transport.abort()
    exc = await asyncio.wait_for(protocol.lost, 10)
    assert isinstance(exc, ConnectionResetError)
    assert transport.is_closing()
    with pytest.raises(ConnectionResetError, match="reset or lost"):
        transport.write(b"x")
    transport.write_eof()  # ignored once the stream is gone
    assert transport.get_write_buffer_size() == 0


async def test_stats_snapshot_survives_a_peer_reset(pair: tuple[Session, Session]) -> None:
    a, b = pair
    transport, protocol, accepted = await connected(a, b, 53)
    transport.write(b"hi")
    server_proto = await asyncio.wait_for(accepted, 10)
    assert isinstance(server_proto, Recorder) and server_proto.transport is not None
    await asyncio.wait_for(server_proto.got_data, 10)
    server_proto.transport.abort()
    assert isinstance(await asyncio.wait_for(protocol.lost, 10), ConnectionResetError)
    stats = transport.get_extra_info("stats")
    assert isinstance(stats, StreamStats) and stats.bytes_sent == 2


async def test_write_type_and_empty_data(pair: tuple[Session, Session]) -> None:
    a, b = pair
    transport, _, accepted = await connected(a, b, 43)
    with pytest.raises(TypeError, match="bytes-like"):
        transport.write("text")  # type: ignore[arg-type]
    transport.write(b"")  # nothing happens
    transport.write(bytearray(b"ab"))
    transport.write(memoryview(b"cd"))
    transport.write_eof()
    transport.write_eof()  # idempotent
    server_proto = await asyncio.wait_for(accepted, 10)
    assert isinstance(server_proto, Recorder)
    await asyncio.wait_for(server_proto.eof, 10)
    assert server_proto.data == b"abcd"
    with pytest.raises(BrokenPipeError):
        transport.write(b"e")


async def test_stats_snapshot_survives_a_clean_close(pair: tuple[Session, Session]) -> None:
    a, b = pair
    transport, protocol, accepted = await connected(a, b, 54)
    transport.write(b"abc")
    server_proto = await asyncio.wait_for(accepted, 10)
    assert isinstance(server_proto, Recorder) and server_proto.transport is not None
    await asyncio.wait_for(server_proto.got_data, 10)
    server_proto.transport.close()
    transport.close()
    assert await asyncio.wait_for(protocol.lost, 10) is None
    stats = transport.get_extra_info("stats")
    assert isinstance(stats, StreamStats) and stats.bytes_sent == 3


async def test_extra_info_defaults_and_accessors(pair: tuple[Session, Session]) -> None:
    a, b = pair
    transport, protocol, _ = await connected(a, b, 44)
    assert transport.get_extra_info("socket") is None
    assert transport.get_extra_info("nope", "dflt") == "dflt"
    assert transport.get_extra_info("peername") == (b.b32, 44)
    assert transport.get_extra_info("sockname") == (a.b32, 0)
    assert transport.get_extra_info("peer_b32") == b.b32
    assert transport.get_extra_info("local_destination") == a.destination
    assert transport.get_protocol() is protocol
    other = Recorder()
    transport.set_protocol(other)
    assert transport.get_protocol() is other
    transport.set_protocol(protocol)
    assert "open" in repr(transport) and b.b32[:16] in repr(transport)
    transport.resume_reading()  # not paused: no-op
    assert transport.is_reading()
    transport.close()
    assert "closing" in repr(transport)
    await asyncio.wait_for(protocol.lost, 10)
    assert "lost" in repr(transport)
    assert "port=45" in repr(await b.create_server(Recorder, 45))


async def test_set_write_buffer_limits_validation(pair: tuple[Session, Session]) -> None:
    a, b = pair
    transport, _, _ = await connected(a, b, 46)
    assert transport.get_write_buffer_limits() == (32 * 1024, 128 * 1024)
    transport.set_write_buffer_limits(low=100)
    assert transport.get_write_buffer_limits() == (100, 400)
    transport.set_write_buffer_limits(high=0)
    assert transport.get_write_buffer_limits() == (0, 0)
    transport.set_write_buffer_limits()
    assert transport.get_write_buffer_limits() == (32 * 1024, 128 * 1024)
    with pytest.raises(ValueError, match="must be >="):
        transport.set_write_buffer_limits(high=10, low=20)
    with pytest.raises(ValueError, match="must be >= 0"):
        transport.set_write_buffer_limits(high=10, low=-1)
    assert transport.get_write_buffer_limits() == (32 * 1024, 128 * 1024)  # unchanged
    transport.close()


async def test_lowering_limits_pauses_and_raising_resumes(pair: tuple[Session, Session]) -> None:
    a, b = pair
    transport, protocol, _ = await connected(a, b, 47)
    transport.write(b"q" * 20_000)
    assert transport.get_write_buffer_size() > 100
    transport.set_write_buffer_limits(high=100)
    assert protocol.paused == 1 and protocol.resumed == 0
    transport.set_write_buffer_limits(high=10_000_000)
    assert protocol.resumed == 1
    transport.close()
    await asyncio.wait_for(protocol.lost, 10)


# ---------------------------------------------------------------------- misbehaving protocols


class FailsOnData(Recorder):
    def data_received(self, data: bytes) -> None:
        raise RuntimeError("boom")


class FailsOnMade(Recorder):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        raise RuntimeError("boom")


class FailsOnEof(Recorder):
    def eof_received(self) -> bool:
        raise RuntimeError("boom")


@pytest.mark.parametrize("server_proto", [FailsOnData, FailsOnMade, FailsOnEof])
async def test_failing_server_protocol_resets_the_client(
    pair: tuple[Session, Session], server_proto: type[Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    a, b = pair
    transport, protocol, _ = await connected(a, b, 48, server_proto)
    with contextlib.suppress(ConnectionResetError):  # FailsOnMade may have reset us already
        transport.write(b"data")
    transport.write_eof()
    exc = await asyncio.wait_for(protocol.lost, 10)
    assert isinstance(exc, ConnectionResetError)
    assert "failed" in caplog.text


async def test_failing_protocol_factory_refuses(
    pair: tuple[Session, Session], caplog: pytest.LogCaptureFixture
) -> None:
    a, b = pair

    def factory() -> asyncio.Protocol:
        raise RuntimeError("no protocol today")

    await b.create_server(factory, 49)
    try:
        _, protocol = await a.create_connection(Recorder, b.destination, 49, timeout=10)
    except ConnectionRefusedError:
        pass
    else:  # the SYN was answered before the factory ran: the stream is reset at once
        assert isinstance(protocol, Recorder)
        assert isinstance(await asyncio.wait_for(protocol.lost, 10), ConnectionResetError)
    assert "protocol factory failed" in caplog.text


# ---------------------------------------------------------------------- servers


async def test_server_close_keeps_open_streams(pair: tuple[Session, Session]) -> None:
    a, b = pair
    accepted: asyncio.Future[Recorder] = asyncio.get_running_loop().create_future()

    def factory() -> Recorder:
        proto = Recorder()
        accepted.set_result(proto)
        return proto

    server = await b.create_server(factory, 50)
    transport, protocol = await a.create_connection(Recorder, b.destination, 50)
    assert isinstance(protocol, Recorder)
    server_proto = await asyncio.wait_for(accepted, 10)
    server.close()
    await server.wait_closed()
    assert not server.is_serving()
    # the open stream still works both ways
    transport.write(b"ping")
    await asyncio.wait_for(server_proto.got_data, 10)
    assert server_proto.transport is not None
    server_proto.transport.write(b"pong")
    await asyncio.wait_for(protocol.got_data, 10)
    assert protocol.data == b"pong" and server_proto.data == b"ping"
    # new streams are refused
    with pytest.raises(ConnectionRefusedError):
        await a.create_connection(Recorder, b.destination, 50, timeout=10)
    with pytest.raises(RuntimeError, match="closed"):
        await server.start_serving()
    with pytest.raises(RuntimeError, match="closed"):
        await server.serve_forever()
    server.close()  # idempotent
    transport.close()


async def test_serve_forever_ends_on_close_and_rejects_second_waiter(
    pair: tuple[Session, Session],
) -> None:
    _, b = pair
    server = await b.create_server(Recorder, 51)
    assert server.get_loop() is asyncio.get_running_loop()
    assert server.session is b
    task = asyncio.create_task(server.serve_forever())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already being awaited"):
        await server.serve_forever()
    server.close()  # like asyncio.Server: the serve_forever task ends cancelled
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not server.is_serving()


async def test_catch_all_port_zero_server(pair: tuple[Session, Session]) -> None:
    a, b = pair
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.set_result(writer.get_extra_info("local_port"))
        writer.close()

    server = await b.start_server(handler)  # port 0: any port without its own server
    _, writer = await a.open_connection(b.destination, 1234)
    assert await asyncio.wait_for(seen, 10) == 1234
    writer.close()
    server.close()
    with pytest.raises(ConnectionRefusedError):
        await a.open_connection(b.destination, 1234, timeout=10)


# ---------------------------------------------------------------------- sessions


async def test_session_close_fails_pending_connect_and_closes_servers(
    router: RouterTarget,
) -> None:
    a = await create_session(address(router))
    b = await create_session(address(router))
    router.embedded.set_pair_impairments(a.destination, b.destination, Impairments(blackhole=True))
    await b.create_server(Recorder, 1)
    server_a = await a.create_server(Recorder, 2)
    pending = asyncio.create_task(a.create_connection(Recorder, b.destination, 1, timeout=10))
    await asyncio.sleep(0)  # let it send its SYN
    assert "open" in repr(a)
    await a.close(timeout=0.5)
    with pytest.raises(ConnectionError, match="clos"):
        await pending
    assert a.is_closed and not server_a.is_serving() and "closed" in repr(a)
    await a.close()  # idempotent
    await a.wait_closed()
    with pytest.raises(ConnectionError, match="closed"):
        await a.create_server(Recorder, 3)
    with pytest.raises(ConnectionError, match="closed"):
        await a.ping(b.destination, timeout=1)
    await b.close()


async def test_cancelled_connect_resets_the_half_open_stream(router: RouterTarget) -> None:
    async with create_session(address(router)) as a, create_session(address(router)) as b:
        router.embedded.set_pair_impairments(
            a.destination, b.destination, Impairments(blackhole=True)
        )
        await b.create_server(Recorder, 1)
        task = asyncio.create_task(a.create_connection(Recorder, b.destination, 1))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert "streams=0" in repr(a)  # the half-open stream was abandoned


async def test_resolve_destinations_and_cache(router: RouterTarget) -> None:
    async with create_session(address(router)) as a, create_session(address(router)) as b:
        assert await a.resolve(b.destination) is b.destination
        assert await a.resolve(b.destination.to_base64()) == b.destination
        router.embedded.register_name("cached.i2p", b.destination)
        assert await a.resolve(" cached.i2p ") == b.destination
        router.embedded.register_name("cached.i2p", a.destination)
        assert await a.resolve("CACHED.i2p") == b.destination  # cached, case-insensitive


async def test_create_session_argument_errors(tmp_path: pathlib.Path, router: RouterTarget) -> None:
    with pytest.raises(ValueError, match="not a number"):
        await create_session("127.0.0.1:http")
    with pytest.raises(ValueError, match="host:port"):
        await create_session(":7654")
    with pytest.raises(ValueError, match="host:port"):
        await create_session("127.0.0.1:70000")
    with pytest.raises(ValueError, match="maxWindowSise"):
        await create_session(address(router), options={"i2p.streaming.maxWindowSise": "1"})
    # nested key path: parent folders are created
    path = tmp_path / "a" / "b" / "keys.dat"
    keys = PrivateKeys.generate()
    host, port = router.i2cp_address
    async with create_session((host, port), keys=keys) as s:
        assert s.destination == keys.destination
    async with create_session(address(router), keys=path, create_keys=True) as s:
        assert path.exists()
        made = s.destination
    async with create_session(address(router), keys=pathlib.Path(path)) as s:
        assert s.destination == made
    opts = StreamOptions(max_window_size=8)
    async with create_session(address(router), options=opts) as s:
        assert s.options is opts


async def test_per_stream_options_validation(pair: tuple[Session, Session]) -> None:
    a, b = pair
    await b.create_server(Recorder, 52)
    with pytest.raises(ValueError, match="per-stream options"):
        await a.create_connection(Recorder, b.destination, 52, options={"inbound.length": "0"})
    transport, _ = await a.create_connection(
        Recorder, b.destination, 52, options=StreamOptions(max_window_size=4)
    )
    transport.close()


# ---------------------------------------------------------------------- config helpers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example", ("example", 7654)),
        (" host:1 ", ("host", 1)),
        ("[::1]:7000", ("::1", 7000)),
        ("[::1]", ("::1", 7654)),
        ("::1", ("::1", 7654)),
        (("h", "80"), ("h", 80)),
    ],
)
def test_parse_router_forms(text: str | tuple[str, int], expected: tuple[str, int]) -> None:
    assert parse_router(text) == expected


@pytest.mark.parametrize("text", ["", "[]:1", "h:0", "h:-1", "[::1]:x"])
def test_parse_router_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="router address"):
        parse_router(text)


def test_split_options_routes_keys_by_layer() -> None:
    assert split_options(None) == ({}, StreamOptions())
    opts = StreamOptions(max_window_size=5)
    assert split_options(opts) == ({}, opts)
    i2cp, stream = split_options(
        {
            "inbound.length": "0",
            "i2p.streaming.maxWindowSize": "9",
            "i2cp.enableAccessList": "true",
        }
    )
    assert i2cp == {"inbound.length": "0", "i2cp.enableAccessList": "true"}
    assert stream.max_window_size == 9 and stream.enable_access_list
    base = StreamOptions()
    assert stream_options(base, None) is base
    assert stream_options(base, opts) is opts
    assert stream_options(base, {"i2p.streaming.maxWindowSize": "3"}).max_window_size == 3


def test_tls_context_choices() -> None:
    assert tls_context(False) is None
    ctx = tls_context(True)
    assert ctx is not None and ctx.verify_mode == ssl.CERT_NONE and not ctx.check_hostname
    mine = ssl.create_default_context()
    assert tls_context(mine) is mine


def test_base64_destination_detection() -> None:
    dest = PrivateKeys.generate().destination
    assert looks_like_base64_destination(dest.to_base64()) == dest
    assert looks_like_base64_destination("short") is None
    assert looks_like_base64_destination("A" * 600) is None  # long but not a destination
    assert looks_like_base64_destination(dest.b32) is None


# ---------------------------------------------------------------------- more endings


async def test_data_arriving_after_close_is_not_delivered(pair: tuple[Session, Session]) -> None:
    a, b = pair
    transport, protocol, accepted = await connected(a, b, 55)
    server_proto = await asyncio.wait_for(accepted, 10)
    assert isinstance(server_proto, Recorder) and server_proto.transport is not None
    server_proto.transport.write(b"first")
    await asyncio.wait_for(protocol.got_data, 10)
    transport.close()
    server_proto.transport.write(b"y" * 50_000)  # arrives after our close: dropped
    server_proto.transport.close()
    assert await asyncio.wait_for(protocol.lost, 10) is None
    assert protocol.data == b"first"
    assert await asyncio.wait_for(server_proto.lost, 10) is None


async def test_callbacks_that_raise_are_logged_not_propagated(
    pair: tuple[Session, Session], caplog: pytest.LogCaptureFixture
) -> None:
    a, b = pair

    class Fragile(Recorder):
        def pause_writing(self) -> None:
            super().pause_writing()
            raise RuntimeError("pause boom")

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            raise RuntimeError("lost boom")

    await b.create_server(Recorder, 56)
    transport, protocol = await a.create_connection(Fragile, b.destination, 56)
    assert isinstance(protocol, Fragile)
    transport.set_write_buffer_limits(high=10)
    transport.write(b"z" * 1000)  # over the limit: pause_writing raises, write does not
    assert protocol.paused == 1
    transport.abort()
    assert await asyncio.wait_for(protocol.lost, 5) is None
    await asyncio.sleep(0)  # let the loop run the failing callback to its end
    assert "pause_writing failed" in caplog.text and "connection_lost failed" in caplog.text
    transport.set_write_buffer_limits(high=0)  # after the end: no more callbacks
    assert protocol.paused == 1


async def test_session_close_resets_streams_that_do_not_end_in_time(
    router: RouterTarget,
) -> None:
    a = await create_session(address(router))
    b = await create_session(address(router))
    await b.create_server(Recorder, 1)
    transport, protocol = await a.create_connection(Recorder, b.destination, 1)
    assert isinstance(protocol, Recorder)
    router.embedded.set_pair_impairments(a.destination, b.destination, Impairments(blackhole=True))
    await a.close(timeout=0.05)  # our CLOSE is never acknowledged
    assert await asyncio.wait_for(protocol.lost, 5) is None
    assert transport.is_closing() and "streams=0" in repr(a)
    await b.close(timeout=0.05)


async def test_router_going_away_fails_streams_and_calls(router: RouterTarget) -> None:
    a = await create_session(address(router))
    b = await create_session(address(router))
    await b.create_server(Recorder, 1)
    transport, protocol = await a.create_connection(Recorder, b.destination, 1)
    assert isinstance(protocol, Recorder)
    await router.embedded.stop()
    exc = await asyncio.wait_for(protocol.lost, 10)
    assert isinstance(exc, ConnectionResetError) and "lost" in str(exc)
    with pytest.raises(ConnectionResetError):
        transport.write(b"x")
    with pytest.raises(ConnectionError, match="lost its router"):
        await a.create_connection(Recorder, b.destination, 1)
    await asyncio.wait_for(a.close(), 5)  # does not wait for streams that cannot end
    await asyncio.wait_for(b.close(), 5)
