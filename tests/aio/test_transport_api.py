"""StreamTransport accessors: write argument checks and get_extra_info."""

from __future__ import annotations

import asyncio

import pytest

from i2p_streaming.aio import Session
from tests.support.protocols import Recorder, connected

pytestmark = pytest.mark.timeout(30)


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
