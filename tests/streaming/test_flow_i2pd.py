"""Flow control against i2pd's own streaming: a paused Python reader chokes i2pd's sender.

i2pd (through SAM, in a thread) sends 1 MB to our asyncio server, whose handler does not read
until our core has refused a packet (receive buffer full, choke sent). Then it reads
everything: every byte arrives (sha256), and our receive buffer never exceeded its bound.
Runs against the newest i2pd and Debian stable's (marker ``i2pd_versions``); both honour our
choke (DELAY 61000). i2pd 2.56 resumes only from an ACK that reaches it between one pacing
interval after its last resend and its next one (receiving.HOLD_FRACTION): this test failed
on it, at a 471 KB receive buffer, until the covering ACK was held.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading

import pytest

from i2p_streaming.aio import ZERO_HOP, create_session
from i2p_streaming.streaming import StreamOptions
from tests.support.i2pd import I2pdInstance
from tests.support.sam import SAMSession

pytestmark = [pytest.mark.i2pd, pytest.mark.i2pd_versions, pytest.mark.timeout(120)]

SIZE = 1 << 20
BOUND = StreamOptions().receive_buffer_bytes  # maxMessageSize x (256 + 4)


def router(i2pd: I2pdInstance) -> str:
    host, port = i2pd.i2cp_address
    return f"{host}:{port}"


def sam_send(session: SAMSession, dest: str, data: bytes, done: threading.Event) -> None:
    """STREAM CONNECT, send ``data``, then wait for our side to close the stream."""
    sock = session.connect(dest, timeout=60)
    sock.settimeout(110)
    with sock:
        sock.sendall(data)
        while sock.recv(4096):
            pass
    done.set()


async def test_paused_reader_chokes_i2pd_and_gets_every_byte(
    i2pd: I2pdInstance, sam_session: SAMSession
) -> None:
    loop = asyncio.get_running_loop()
    async with create_session(router(i2pd), options=ZERO_HOP) as ours:
        manager = ours.manager
        choked: asyncio.Future[None] = loop.create_future()
        receive = manager.receive_payload

        def receiving(payload: bytes, src_port: int, dst_port: int, now: float) -> None:
            receive(payload, src_port, dst_port, now)  # instrument: the first refused packet
            if "receive_buffer_full" in manager.counters and not choked.done():
                choked.set_result(None)

        manager.receive_payload = receiving  # type: ignore[method-assign]
        result: asyncio.Future[tuple[str, int]] = loop.create_future()

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sid = writer.get_extra_info("stream_id")
            try:
                await asyncio.wait_for(asyncio.shield(choked), 45)
                st = manager.stats(sid)
                assert st.choking and st.receive_buffered <= BOUND, st
                data = await asyncio.wait_for(reader.readexactly(SIZE), 45)
                result.set_result((hashlib.sha256(data).hexdigest(), sid))
            except BaseException as exc:
                try:
                    st = manager.stats(sid)
                except ValueError:
                    st = None
                result.set_exception(
                    AssertionError(f"{exc!r} stats={st} counters={manager.counters}")
                )
            finally:
                writer.close()

        await ours.start_server(handler, 0, limit=16 * 1024)
        data = os.urandom(SIZE)
        done = threading.Event()
        sender = threading.Thread(
            target=sam_send,
            args=(sam_session, ours.destination.to_base64(), data, done),
            daemon=True,
        )
        sender.start()
        digest, sid = await asyncio.wait_for(result, 110)
        assert digest == hashlib.sha256(data).hexdigest()
        stats = manager.stats(sid) if sid in manager.stream_ids else None
        assert manager.counters["receive_buffer_full"] >= 1
        if stats is not None:
            assert stats.receive_peak <= BOUND and stats.bytes_received == SIZE
        assert manager.internal_errors == 0
        await asyncio.to_thread(done.wait, 30)
