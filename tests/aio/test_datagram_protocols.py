"""Datagram payloads (17 repliable, 18 raw, 19 datagram2, 20 datagram3) reaching a session
without an endpoint for them are counted and dropped, never parsed as streaming; any other
non-streaming protocol is counted in ``ignored_payloads``."""

from __future__ import annotations

import asyncio

import pytest

from i2p_streaming.aio import I2CPClient, Session
from i2p_streaming.streaming import Flags
from tests.support.embedded import RouterTarget

pytestmark = pytest.mark.timeout(30)


async def test_unbound_datagrams_and_other_protocols_are_dropped_with_a_counter(
    router: RouterTarget, pair: tuple[Session, Session]
) -> None:
    a, b = pair
    # a syntactically plausible streaming SYN would be accepted under protocol 6: send one
    # under each datagram protocol and under an unknown one
    fake_syn = bytes(16) + bytes([0, 0]) + Flags.SYNCHRONIZE.to_bytes(2, "big") + bytes(2)
    sender = await I2CPClient.connect(*router.i2cp_address, timeout=5)
    async with sender:
        for protocol in (17, 18, 19, 20, 99):
            status = await sender.send(b.destination, fake_syn, protocol=protocol, dst_port=1)
            assert status.delivered
    # a stream after them proves the datagrams were handled (in order) and did no harm

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read())
        writer.close()

    await b.start_server(echo, 0)
    reader, writer = await a.open_connection(b.destination, 1, timeout=10)
    writer.write(b"stream after datagrams")
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 10) == b"stream after datagrams"
    assert b.ignored_payloads == {99: 1}
    assert b.datagrams.core.counters["no_endpoint"] == 4
    bad = ("malformed", "bad_syn", "bad_signature", "internal_error")
    assert not {k: v for k, v in b.manager.counters.items() if k in bad}
