"""Callbacks that raise are logged (ERROR, with traceback) and counted, and delivery goes on;
corrupt payloads are dropped and logged."""

from __future__ import annotations

import asyncio
import logging

import pytest

from i2p_streaming.aio import ReconnectPolicy, SessionLost, SessionRestored
from i2p_streaming.i2cp import PROTO_RAW
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.events import PayloadReceived
from i2p_streaming.i2cp.payload import wrap
from tests.support.gated import GatedRouter, connect_client, log_records

LOGGER = "i2p_streaming.i2cp"


async def test_payload_callback_exception_is_logged_and_delivery_continues(
    gated: GatedRouter, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[bytes] = []
    both = asyncio.Event()

    def flaky(payload: PayloadReceived) -> None:
        got.append(payload.data)
        if len(got) == 2:
            both.set()
        if len(got) == 1:
            raise RuntimeError("callback bug")

    async with await connect_client(gated) as a, await connect_client(gated, on_payload=flaky) as b:
        assert (await a.send(b.destination, b"one", protocol=PROTO_RAW)).delivered
        assert (await a.send(b.destination, b"two", protocol=PROTO_RAW)).delivered
        await asyncio.wait_for(both.wait(), 5)
        assert got == [b"one", b"two"]
        assert b.is_connected
    [record] = log_records(caplog, "payload callback failed")
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


async def test_session_event_callback_exception_does_not_stop_reconnecting(
    gated: GatedRouter, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[object] = []
    restored = asyncio.Event()

    def broken(event: object) -> None:
        events.append(event)
        if isinstance(event, SessionRestored):
            restored.set()
        raise RuntimeError("callback bug")

    policy = ReconnectPolicy(initial_delay=0.0)
    a = await connect_client(gated, reconnect=policy, on_session_event=broken)
    try:
        gated.drop_all()
        await asyncio.wait_for(restored.wait(), 5)
        assert [type(e) for e in events] == [SessionLost, SessionRestored]
        assert a.is_connected
    finally:
        await a.close()
    assert len(log_records(caplog, "session event callback failed")) == 2


async def test_corrupt_payload_is_dropped_logged_and_later_ones_delivered(
    gated: GatedRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    async with await connect_client(gated) as a:
        conn = gated.sessions[a.destination.hash]
        bad = bytearray(wrap(b"payload", protocol=PROTO_RAW))
        bad[-8] ^= 0xFF  # CRC-32 of the gzip trailer
        conn.send(m.MessagePayload(conn.session_id, 77, bytes(bad)))
        conn.send(m.MessagePayload(conn.session_id, 78, wrap(b"fine", protocol=PROTO_RAW)))
        got = await a.receive(timeout=5)
        assert (got.data, got.message_id) == (b"fine", 78)
        assert a.dropped_payloads == 0  # not a queue overflow
        assert a.is_connected
    [record] = log_records(caplog, "dropped payload 77")
    assert record.levelno == logging.DEBUG
