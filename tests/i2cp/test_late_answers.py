"""The asyncio I2CP client after a caller gave up: late statuses, replies and answers are
ignored. The timeouts here are the behaviour under test."""

from __future__ import annotations

import asyncio

import pytest

from i2p_streaming.errors import I2CPConnectionError
from i2p_streaming.i2cp import (
    PROTO_RAW,
)
from i2p_streaming.i2cp import messages as m
from tests.support.gated import GatedRouter, connect_client

LOGGER = "i2p_streaming.i2cp"


async def test_cancelled_send_ignores_its_late_status(gated: GatedRouter) -> None:
    """A status arriving for a send whose caller gave up must not break the read loop."""
    async with await connect_client(gated) as a, await connect_client(gated) as b:
        gated.hold = {m.SendMessage}
        task = asyncio.ensure_future(a.send(b.destination, b"late", protocol=PROTO_RAW))
        await gated.wait_held(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gated.hold = set()
        gated.release()  # the payload and MessageStatus of the cancelled send go out now
        result = await asyncio.wait_for(a.send(b.destination, b"next", protocol=PROTO_RAW), 5)
        assert result.delivered
        assert [(await b.receive(timeout=5)).data for _ in range(2)] == [b"late", b"next"]
        assert a.is_connected


async def test_cancelled_lookup_ignores_its_late_reply(gated: GatedRouter) -> None:
    async with await connect_client(gated) as a, await connect_client(gated) as b:
        gated.hold = {m.HostLookup}
        task = asyncio.ensure_future(a.lookup(b.b32))
        await gated.wait_held(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gated.hold = set()
        gated.release()
        assert await asyncio.wait_for(a.lookup(b.b32), 5) == b.destination
        assert a.is_connected


async def test_reconfigure_timeout_then_late_answer_is_ignored(gated: GatedRouter) -> None:
    async with await connect_client(gated) as a, await connect_client(gated) as b:
        gated.hold = {m.ReconfigureSession}
        with pytest.raises(I2CPConnectionError, match="no answer to ReconfigureSession") as info:
            await a.reconfigure({"inbound.quantity": "2"}, timeout=0.1)
        assert a.router in str(info.value)
        gated.hold = set()
        gated.release()  # SessionStatus Updated arrives with nobody waiting for it
        # A round trip on the same connection: the late answer has been handled after it.
        assert await asyncio.wait_for(a.lookup(b.b32), 5) == b.destination
        await asyncio.wait_for(a.reconfigure({"inbound.quantity": "3"}), 5)
        assert a.is_connected
