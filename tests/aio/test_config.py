"""create_session arguments: router addresses, option splitting, TLS, keys, name resolution."""

from __future__ import annotations

import pathlib
import ssl

import pytest

from i2p_streaming.aio import Session, create_session
from i2p_streaming.aio.config import split_options, stream_options, tls_context
from i2p_streaming.checks import looks_like_base64_destination, parse_router
from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import StreamOptions
from tests.aio.conftest import address
from tests.support.embedded import RouterTarget
from tests.support.protocols import Recorder

pytestmark = pytest.mark.timeout(30)


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
    with pytest.raises(ValueError, match="HOST:PORT"):
        await create_session(":7654")
    with pytest.raises(ValueError, match="1-65535"):
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


def test_split_options_on_a_base() -> None:
    base = StreamOptions(passive_flush_delay=0.0, max_window_size=7)
    assert split_options(None, base=base) == ({}, base)
    i2cp, stream = split_options(
        {"inbound.length": "0", "i2p.streaming.maxWindowSize": "9"}, base=base
    )
    assert i2cp == {"inbound.length": "0"}
    assert (stream.passive_flush_delay, stream.max_window_size) == (0.0, 9)
    with pytest.raises(TypeError, match="StreamOptions already"):
        split_options(StreamOptions(), base=base)


def test_tls_context_choices() -> None:
    assert tls_context(False) is None
    ctx = tls_context(True, verify=False)
    assert ctx is not None and ctx.verify_mode == ssl.CERT_NONE and not ctx.check_hostname
    mine = ssl.create_default_context()
    assert tls_context(mine) is mine


def test_base64_destination_detection() -> None:
    dest = PrivateKeys.generate().destination
    assert looks_like_base64_destination(dest.to_base64()) == dest
    assert looks_like_base64_destination("short") is None
    assert looks_like_base64_destination("A" * 600) is None  # long but not a destination
    assert looks_like_base64_destination(dest.b32) is None
