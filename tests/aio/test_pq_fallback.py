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
import time

import pytest

from i2p_streaming.aio import ZERO_HOP, I2CPClient, ReconnectPolicy, create_session
from i2p_streaming.aio.i2cp_types import SessionEvent, SessionRestored
from i2p_streaming.errors import SessionRefusedError
from i2p_streaming.i2cp import messages as m
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


async def read_message(reader: asyncio.StreamReader) -> m.Message:
    head = await reader.readexactly(5)
    body = await reader.readexactly(int.from_bytes(head[:4], "big"))
    return m.decode_message(head[4], body)


@pytest.mark.timeout(20)
async def test_an_i2pd_style_invalid_status_is_retried(caplog: pytest.LogCaptureFixture) -> None:
    """A stub router reporting 0.9.67 that answers every CreateSession with SessionStatus
    Invalid (i2pd's answer, no reason): two sessions, the second with 4, then the error."""
    sent: list[str | None] = []

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readexactly(1)  # the protocol byte
            assert isinstance(await read_message(reader), m.GetDate)
            writer.write(m.encode_message(m.SetDate(int(time.time() * 1000), "0.9.67")))
            create = await read_message(reader)
            assert isinstance(create, m.CreateSession)
            sent.append(create.config.options.get(OPTION))
            writer.write(m.encode_message(m.SessionStatus(m.NO_SESSION, 3)))
            await writer.drain()
            await reader.read()
        finally:
            writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    try:
        with pytest.raises(SessionRefusedError) as refused:
            await create_session(f"{host}:{port}", options=ZERO_HOP)
    finally:
        server.close()
    assert sent == ["6,4", "4"]
    assert "found the session invalid" in str(refused.value)
    assert f"opened again with {OPTION}=4" in str(refused.value)
    [warning] = warnings(caplog)
    assert f"{OPTION}=6,4" in warning and warning.endswith(f"{OPTION}=4")
