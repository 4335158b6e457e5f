"""The mistakes a new user makes get a clear error at the call (issue 17's table, library rows).

Each test asserts the wanted message; the fake services (SAM, HTTP, a silent port) are local
asyncio servers, so no real router or network is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from i2p_streaming import (
    DataFormatError,
    I2CPConnectionError,
    Session,
    UnknownOptionWarning,
    create_session,
)
from i2p_streaming.aio import SessionOpener
from i2p_streaming.aio.config import check_option_names
from i2p_streaming.checks import check_destination
from tests.sync.conftest import router_address  # noqa: F401 (fixture)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _sam(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A SAM bridge: answers HELLO, and to anything else an error line (as i2pd's does)."""
    line = await reader.readline()
    if line.startswith(b"HELLO VERSION"):
        writer.write(b"HELLO REPLY RESULT=OK VERSION=3.1\n")
    else:
        writer.write(b'HELLO REPLY RESULT=I2P_ERROR MESSAGE="Invalid command"\n')
    await writer.drain()
    writer.close()


async def _http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An HTTP server: a reply as soon as a request ends (I2CP bytes never end one)."""
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        await writer.drain()
    writer.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        await reader.read()
    writer.close()


@contextlib.asynccontextmanager
async def _server(handler: Handler) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        host, port = server.sockets[0].getsockname()[:2]
        yield f"{host}:{port}"
    finally:
        server.close()
        await server.wait_closed()


# ---------------------------------------------------------------------------- ports


@pytest.mark.parametrize("port", [80.0, "80", None, True])
async def test_a_port_that_is_not_an_int_is_a_type_error(
    pair: tuple[Session, Session], port: object
) -> None:
    client, server = pair
    with pytest.raises(TypeError, match=r"^port must be an int, not "):
        await client.open_connection(server.b32, port)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^port must be an int"):
        await server.start_server(lambda r, w: None, port)  # type: ignore[arg-type]


@pytest.mark.parametrize("port", [-1, 65536, 99999])
async def test_a_port_out_of_range_is_a_value_error(
    pair: tuple[Session, Session], port: int
) -> None:
    client, server = pair
    with pytest.raises(ValueError, match=rf"^port {port} is out of range \(0-65535\)"):
        await client.open_connection(server.b32, port)
    with pytest.raises(ValueError, match="local_port"):
        await client.open_connection(server.b32, 80, local_port=port)


# ---------------------------------------------------------------------------- the router port


async def test_a_sam_port_is_named_as_sam() -> None:
    async with _server(_sam) as address:
        with pytest.raises(I2CPConnectionError) as info:
            await asyncio.wait_for(create_session(address, handshake_timeout=0.5), 20)
    assert str(info.value) == (
        f"{address} answers like a SAM bridge, not I2CP (the I2CP port is usually 7654)"
    )


async def test_an_http_port_is_named_as_http() -> None:
    async with _server(_http) as address:
        with pytest.raises(I2CPConnectionError) as info:
            await asyncio.wait_for(create_session(address, handshake_timeout=0.5), 20)
    assert str(info.value) == f"{address} is not an I2CP router (it answered HTTP)"


async def test_a_silent_port_fails_after_the_handshake_timeout_naming_what_never_came() -> None:
    async with _server(_silent) as address:
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(I2CPConnectionError) as info:
            await asyncio.wait_for(create_session(address, handshake_timeout=0.3), 20)
        elapsed = loop.time() - start
    assert str(info.value) == (
        f"I2CP router {address}: no SetDate (the answer to our GetDate) within 0.3 s"
    )
    assert elapsed < 10  # the probes add at most their own 2 s timeout


def test_the_default_handshake_timeout_is_short() -> None:
    default = inspect.signature(create_session).parameters["handshake_timeout"].default
    assert default <= 10.0
    assert inspect.signature(create_session).parameters["timeout"].default == 60.0


async def test_no_router_names_the_router_address_first_and_no_session() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(I2CPConnectionError) as info:
        await create_session(f"127.0.0.1:{port}")
    text = str(info.value)
    assert text.startswith(f"I2CP router 127.0.0.1:{port}: cannot connect: ")
    assert "b32.i2p" not in text
    assert "`i2p-streaming router` runs a local one" in text


@pytest.mark.parametrize(
    ("router", "wanted"),
    [
        ("127.0.0.1;7654", "bad host '127.0.0.1;7654'"),
        ("i2cp://127.0.0.1:7654", "no scheme"),
        ("127.0.0.1:7654:7654", "bad host"),
        ("localhost:http", "port 'http' is not a number"),
        ("localhost:70000", "port 70000 must be 1-65535"),
    ],
)
def test_a_bad_router_address_lists_the_accepted_forms_at_the_call(
    router: str, wanted: str
) -> None:
    with pytest.raises(ValueError, match="router address") as info:
        create_session(router)  # raised at the call: nothing to await, no network
    assert wanted in str(info.value)
    assert "expected HOST:PORT, HOST (port 7654), [IPv6]:PORT or a (host, port) tuple" in str(
        info.value
    )


# ---------------------------------------------------------------------------- destinations


@pytest.mark.parametrize(
    ("dest", "wanted"),
    [
        ("abcdef.b32.i2p", "not a valid .b32.i2p address (it needs 52 base32 characters"),
        ("a" * 51 + ".b32.i2p", "it has 51"),
        ("a" * 55 + ".b32.i2p", "or 56 or more for an encrypted LeaseSet's name; it has 55"),
        ("a" * 56 + "!.b32.i2p", "it has 57"),
        ("http://stats.i2p/", "a URL or path, not a destination; give only the host"),
        ("stats.i2p/index.html", "a URL or path"),
        ("example.com", "expected NAME.b32.i2p (52 base32 characters), a host name NAME.i2p"),
        ("bad_name.i2p", "use letters, digits"),
    ],
)
async def test_a_malformed_destination_is_a_format_error_before_any_lookup(
    pair: tuple[Session, Session], dest: str, wanted: str
) -> None:
    client, _ = pair
    with pytest.raises(DataFormatError) as info:
        await client.open_connection(dest, 80)
    assert wanted in str(info.value)
    with pytest.raises(DataFormatError):
        await client.resolve(dest)


def test_a_b33_name_of_an_encrypted_lease_set_passes_the_format_check() -> None:
    """56+ base32 characters before .b32.i2p: an encrypted LeaseSet's name, for the router."""
    b33 = "a" * 56 + ".b32.i2p"
    assert check_destination(b33) == b33
    assert check_destination("B" * 60 + ".B32.I2P") == "B" * 60 + ".B32.I2P"


# ---------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("inbound.lenght", "inbound.length"),
        ("outbound.quantiy", "outbound.quantity"),
        ("i2cp.fastRecieve", "i2cp.fastReceive"),
        ("i2cp.dontPublishLeaseset", "i2cp.dontPublishLeaseSet"),
        ("maxWindowSize", "i2p.streaming.maxWindowSize"),
        ("profile", "i2p.streaming.profile"),
    ],
)
def test_an_unknown_option_key_warns_with_a_suggestion(key: str, suggestion: str) -> None:
    with pytest.warns(UnknownOptionWarning) as record:
        opener = create_session("127.0.0.1:7654", options={key: "1"})
    opener.close()
    assert str(record[0].message) == f"unknown session option {key!r}; did you mean {suggestion!r}?"
    with pytest.raises(ValueError, match=rf"did you mean {suggestion!r}\? \(strict=True\)"):
        create_session("127.0.0.1:7654", options={key: "1"}, strict=True)


def test_known_option_keys_give_no_warning() -> None:
    known = {
        "inbound.length": "0",
        "outbound.lengthVariance": "0",
        "inbound.nickname": "me",
        "i2cp.leaseSetEncType": "4",
        "i2cp.dontPublishLeaseSet": "true",
        "i2cp.accessList": "",
        "i2cp.leaseSetClient.dh.0": "x",
        "i2p.streaming.maxWindowSize": "64",
        "crypto.tagsToSend": "40",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        create_session("127.0.0.1:7654", options=known, strict=True).close()
        assert check_option_names(known) == []


def test_an_unknown_key_far_from_any_known_one_still_warns() -> None:
    with pytest.warns(UnknownOptionWarning, match=r"'zzz.qqq' \(passed to the router as is\)"):
        assert len(check_option_names(["zzz.qqq"])) == 1


def test_unknown_streaming_keys_are_still_rejected() -> None:
    with pytest.raises(ValueError, match=r"did you mean 'i2p\.streaming\.maxWindowSize'"):
        create_session("127.0.0.1:7654", options={"i2p.streaming.maxWindowSise": "1"})


# ---------------------------------------------------------------------------- create_session


def test_asyncio_run_create_session_works(router_address: str) -> None:  # noqa: F811
    session = asyncio.run(create_session(router_address, options={"inbound.length": "0"}))
    assert isinstance(session, Session)
    assert session.b32.endswith(".b32.i2p")


async def test_create_session_is_awaitable_and_an_async_context_manager(
    router_address: str,  # noqa: F811
) -> None:
    opener = create_session(router_address)
    assert isinstance(opener, SessionOpener)
    async with opener as session:
        assert not session.is_closed
    assert session.is_closed
    async with await create_session(router_address) as other:
        assert other.b32 != session.b32
    assert other.is_closed


def test_an_opener_never_awaited_leaves_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opener = create_session("127.0.0.1:7654")
        opener.close()
        del opener
