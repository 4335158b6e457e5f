"""Write-buffer limits of StreamTransport: validation, pause_writing and resume_writing."""

from __future__ import annotations

import asyncio

import pytest

from i2p_streaming.aio import Session
from tests.support.protocols import connected

pytestmark = pytest.mark.timeout(30)


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
