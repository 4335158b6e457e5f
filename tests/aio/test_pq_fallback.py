"""The automatic retry with ``i2cp.leaseSetEncType=4`` (issue 14).

A router that reports API 0.9.67 but lacks ML-KEM (Java with its ML-KEM unavailable answers
CreateSession with Disconnect "Unsupported crypto type: ..."; here the embedded router with
``enc_types={0, 4}``) refuses the ``6,4`` a session picks by itself: ``create_session`` opens
once more with ``4`` and logs one WARNING naming the option. A user's own value is never
replaced, and an error after the retry names the option.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from i2p_streaming.aio import ZERO_HOP, I2CPClient, ReconnectPolicy, create_session
from i2p_streaming.aio.i2cp_types import SessionEvent, SessionRestored
from i2p_streaming.errors import SessionRefusedError
from i2p_streaming.router import EmbeddedRouter

OPTION = "i2cp.leaseSetEncType"


def address(router: EmbeddedRouter) -> str:
    host, port = router.address
    return f"{host}:{port}"


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.write_eof()


@pytest.mark.timeout(20)
async def test_refused_ml_kem_types_are_retried_with_x25519(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "i2p_streaming")
    async with (
        EmbeddedRouter(enc_types={0, 4}) as router,
        create_session(address(router), options=ZERO_HOP) as fell_back,
        create_session(address(router), options=ZERO_HOP) as other,
    ):
        [warning] = [w for w in warnings(caplog) if fell_back.destination.b32 in w]
        assert "Unsupported crypto type: 6" in warning
        assert warning.endswith(f"opening again with {OPTION}=4")
        published = router.find_session(fell_back.destination.hash)
        assert published is not None and published.options[OPTION] == "4"
        assert published.lease_set is not None
        assert [k.enc_type for k in published.lease_set.keys] == [4]  # type: ignore[union-attr]
        await fell_back.start_server(echo, 1)
        reader, writer = await other.open_connection(fell_back.destination, 1, timeout=10)
        writer.write(b"reachable")
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 10) == b"reachable"
        writer.close()


@pytest.mark.timeout(20)
async def test_a_router_with_ml_kem_gets_no_retry(caplog: pytest.LogCaptureFixture) -> None:
    async with (
        EmbeddedRouter() as router,
        create_session(address(router), options=ZERO_HOP) as session,
    ):
        published = router.find_session(session.destination.hash)
        assert published is not None and published.options[OPTION] == "6,4"
    assert not [w for w in warnings(caplog) if OPTION in w]


@pytest.mark.timeout(20)
async def test_a_user_set_option_is_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    changes: list[object] = []
    async with EmbeddedRouter(enc_types={0, 4}, on_session=changes.append) as router:
        with pytest.raises(SessionRefusedError) as refused:
            await create_session(address(router), options={**ZERO_HOP, OPTION: "6,4"})
    assert "Unsupported crypto type: 6" in str(refused.value)
    assert f"{OPTION}=6,4" in str(refused.value)  # the hint names the option
    assert "opened again" not in str(refused.value)
    assert not warnings(caplog) and not changes


@pytest.mark.timeout(20)
async def test_a_failed_retry_names_the_option(caplog: pytest.LogCaptureFixture) -> None:
    async with EmbeddedRouter(enc_types={0}) as router:  # refuses X25519 too
        with pytest.raises(SessionRefusedError) as refused:
            await create_session(address(router), options=ZERO_HOP)
    assert "Unsupported crypto type: 4" in str(refused.value)
    assert f"opened again with {OPTION}=4" in str(refused.value)
    [warning] = warnings(caplog)
    assert f"opening again with {OPTION}=4" in warning


@pytest.mark.timeout(20)
async def test_a_reconnect_to_a_router_without_ml_kem_falls_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The session was up with 6,4; the router comes back without ML-KEM: the first attempt
    is refused, the next one (the policy's next delay) opens with 4."""
    events: list[SessionEvent] = []
    restored_event = asyncio.Event()

    def on_event(event: SessionEvent) -> None:
        events.append(event)
        if isinstance(event, SessionRestored):
            restored_event.set()

    policy = ReconnectPolicy(initial_delay=0.01, max_delay=0.01, max_attempts=3)
    first = EmbeddedRouter()
    await first.start()
    host, port = first.address
    client = await I2CPClient.connect(
        host, port, options=ZERO_HOP, reconnect=policy, on_session_event=on_event
    )
    try:
        up = first.find_session(client.destination.hash)
        assert up is not None and up.options[OPTION] == "6,4"
        await first.stop()
        async with EmbeddedRouter(port=port, enc_types={0, 4}) as second:
            await asyncio.wait_for(restored_event.wait(), 10)
            [restored] = [e for e in events if isinstance(e, SessionRestored)]
            assert restored.attempts == 2
            session = second.find_session(client.destination.hash)
            assert session is not None and session.options[OPTION] == "4"
        [warning] = [w for w in warnings(caplog) if OPTION in w]
        assert "Unsupported crypto type: 6" in warning
    finally:
        await client.close()
