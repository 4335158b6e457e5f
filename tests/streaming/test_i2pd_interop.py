"""Our streaming against i2pd's own streaming (driven through SAM), on a real i2pd.

Our side is an asyncio session on i2pd's I2CP port (``ours``: one per i2pd flavour, kept for
this module's tests, which check their own streams and the counters' growth during the test);
the peer is the shared SAM session (``sam_session``), i.e. i2pd's C++ streaming
implementation. i2pd paces its own streams at about 0.5 MB/s, so 1 MB each way takes a few
seconds; a fresh i2pd session may lose the very first SYN (our connect retransmits it after
the initial RTO). i2pd 2.56 never asks for an
immediate ACK on its data packets, so while our receiver waits the default 500 ms ack delay,
bytes from i2pd to us flow at only about 0.1 MB/s.

The tests marked ``i2pd_versions`` (echo both ways, ping) run against both the newest i2pd and
Debian stable's; the rest against the newest only. Quirks per version:

- 2.56 (trixie): never asks for an immediate ACK (above).
- 2.56 and 2.59: SAM drops the tail of the data, and never signals EOF, when a stream's CLOSE
  is processed while more than one 8 KiB chunk still waits for the SAM client
  (``SAMSocket::I2PReceive``); our CLOSE goes alone once all data is acked, so no test waits
  for the SAM side before closing (``test_i2pd_tail.py``, ``streaming/closing.py``).
- 2.59 (unstable): our 512 KB upload (``test_upload_to_i2pd_then_close``) stalled once in
  about 40 runs: drain() timed out after 90 s.

Known i2pd limits these tests work around: SAM STREAM CONNECT ignores TO_PORT (streams from
SAM always arrive on port 0).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from i2p_streaming.aio import Session
from i2p_streaming.streaming import (
    ConnectionClosed,
    ConnectionReset,
    Event,
    PeerClosed,
    State,
    StreamStats,
)
from tests.streaming.i2pd_peer import (
    PeerThread,
    echo_once,
    events_of,
    exchange,
    record_events,
    session_report,
    sink_once,
    source_once,
)
from tests.support.i2pd import I2pdInstance
from tests.support.i2pd_sessions import KeptSessions
from tests.support.sam import SAMSession

pytestmark = [pytest.mark.i2pd, pytest.mark.timeout(120), pytest.mark.asyncio(loop_scope="module")]

SIZE = 1 << 20
#: One-way transfers: i2pd's side is the slow one (see the module docstring).
ONE_WAY = 512 * 1024
#: Core counters that mean a peer packet was rejected or our code failed.
BAD_COUNTERS = ("malformed", "internal_error", "bad_signature", "bad_syn", "wrong_stream_id")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def diagnose(session: Session, i2pd: I2pdInstance) -> str:
    return session_report(session, i2pd.log_tail(30))


@dataclass
class Watch:
    """What a test saw of the kept session ``ours``: its streaming events during the test,
    and the counters at its start."""

    events: list[Event]
    counters: dict[str, int]
    internal_errors: int

    def new_counts(self, session: Session) -> dict[str, int]:
        """The counters that grew during the test, by how much."""
        now = session.manager.counters
        return {
            k: v - self.counters.get(k, 0) for k, v in now.items() if v > self.counters.get(k, 0)
        }

    def new_errors(self, session: Session) -> int:
        """Internal errors recorded during the test."""
        return session.manager.internal_errors - self.internal_errors


@pytest_asyncio.fixture(loop_scope="module")
async def ours(kept_sessions: KeptSessions, i2pd_flavour: str) -> Session:
    """Our zero-hop session on this flavour's i2pd, kept for the module's tests."""
    (session,) = await kept_sessions.get(i2pd_flavour, count=1)
    return session


@pytest.fixture
def watch(ours: Session) -> Iterator[Watch]:
    """Record the events of ``ours`` during the test; its counters at the start."""
    manager = ours.manager
    with record_events(ours) as events:
        yield Watch(events, dict(manager.counters), manager.internal_errors)


def assert_clean(session: Session, i2pd: I2pdInstance, sid: int, watch: Watch) -> None:
    """The stream saw the peer's CLOSE, ended with ConnectionClosed and never a RESET; the
    core rejected no packet and recorded no error during the test."""
    events = watch.events
    mine = [e for e in events if getattr(e, "stream_id", None) == sid]
    names = events_of(events, sid)
    why = f"events={names} {diagnose(session, i2pd)}"
    assert any(isinstance(e, PeerClosed) for e in mine), why
    assert any(isinstance(e, ConnectionClosed) for e in mine), why
    assert not any(isinstance(e, ConnectionReset) for e in mine), why
    assert watch.new_errors(session) == 0, why
    bad = {k: v for k, v in watch.new_counts(session).items() if k in BAD_COUNTERS}
    assert not bad, why


def assert_stats(stats: StreamStats | None, sent: int, received: int) -> None:
    assert stats is not None
    assert stats.bytes_sent == sent, stats
    assert stats.bytes_received == received, stats
    assert stats.state in (State.TIME_WAIT, State.DEAD), stats
    assert stats.unacked == 0 and stats.send_buffered == 0, stats
    assert stats.rtt is not None and stats.rtt > 0, stats


@pytest.mark.i2pd_versions
async def test_our_initiator_to_i2pd_acceptor(
    i2pd: I2pdInstance, sam_session: SAMSession, ours: Session, watch: Watch
) -> None:
    """We connect to a SAM acceptor that echoes; 1 MB round trip, half-close, clean end."""
    # the SAM ACCEPT must be pending before our SYN arrives; started only once our session
    # is up, so that a failed session start leaves no acceptor behind to catch the next
    # test's stream
    echo = PeerThread("sam-echo", lambda: echo_once(sam_session, timeout=110)).start()
    # a fresh i2pd session may lose the very first SYN: the connect retransmits it
    reader, writer = await ours.open_connection(sam_session.destination, timeout=60)
    sid = writer.get_extra_info("stream_id")
    data = os.urandom(SIZE)

    async def send() -> None:
        writer.write(data)
        await writer.drain()

    sender = asyncio.create_task(send())
    try:
        echoed = await asyncio.wait_for(reader.readexactly(SIZE), 90)
    except (TimeoutError, asyncio.IncompleteReadError) as exc:
        pytest.fail(
            f"echo incomplete: {exc!r} stats={writer.get_extra_info('stats')} "
            f"{diagnose(ours, i2pd)}"
        )
    await sender
    assert sha(echoed) == sha(data)

    writer.write_eof()  # our CLOSE: the SAM side sees EOF, closes, i2pd sends CLOSE
    assert await asyncio.wait_for(reader.read(), 30) == b"", diagnose(ours, i2pd)
    result = await echo.wait(30)
    assert result.echoed == SIZE and result.sha256 == sha(data)
    assert result.peer == ours.destination.to_base64()

    writer.close()
    await asyncio.wait_for(writer.wait_closed(), 30)  # raises after a RESET
    assert_stats(writer.get_extra_info("stats"), SIZE, SIZE)
    assert_clean(ours, i2pd, sid, watch)


@pytest.mark.i2pd_versions
async def test_i2pd_initiator_to_our_server(
    i2pd: I2pdInstance, sam_session: SAMSession, ours: Session, watch: Watch
) -> None:
    """SAM STREAM CONNECT to our echo server: 1 MB both ways at once, clean end."""
    loop = asyncio.get_running_loop()
    served: asyncio.Future[tuple[int, str, int, int, StreamStats | None]] = loop.create_future()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        digest = hashlib.sha256()
        n = 0
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                digest.update(chunk)
                n += len(chunk)
                await writer.drain()
            writer.close()  # peer's CLOSE seen: send ours
            await writer.wait_closed()  # raises after a RESET
            served.set_result(
                (
                    n,
                    digest.hexdigest(),
                    writer.get_extra_info("local_port"),
                    writer.get_extra_info("stream_id"),
                    writer.get_extra_info("stats"),
                )
            )
        except Exception as exc:
            served.set_exception(exc)

    server = await ours.start_server(handler, 0)
    try:
        data = os.urandom(SIZE)
        dest = ours.destination.to_base64()
        peer = PeerThread(
            "sam-initiator", lambda: exchange(sam_session, dest, 0, data, timeout=110)
        ).start()
        result = await peer.wait(110)
        assert sha(result) == sha(data), diagnose(ours, i2pd)

        n, digest, local_port, sid, stats = await asyncio.wait_for(served, 60)
        assert (n, digest) == (SIZE, sha(data))
        assert local_port == 0  # i2pd's SAM STREAM CONNECT ignores TO_PORT: always port 0
        assert_stats(stats, SIZE, SIZE)
        assert_clean(ours, i2pd, sid, watch)
    finally:
        server.close()


async def test_upload_to_i2pd_then_close(
    i2pd: I2pdInstance, sam_session: SAMSession, ours: Session, watch: Watch
) -> None:
    """Our sender at full window against i2pd's receiver (its acks, NACKs, inbound pacing);
    then our CLOSE, i2pd's CLOSE, clean end."""
    sink = PeerThread("sam-sink", lambda: sink_once(sam_session, timeout=110)).start()
    reader, writer = await ours.open_connection(sam_session.destination, timeout=60)
    sid = writer.get_extra_info("stream_id")
    data = os.urandom(ONE_WAY)
    writer.write(data)
    await asyncio.wait_for(writer.drain(), 90)
    writer.write_eof()  # at once: no wait for the SAM side to have every byte
    assert await asyncio.wait_for(reader.read(), 30) == b"", diagnose(ours, i2pd)
    assert await sink.wait(30) == (ONE_WAY, sha(data))
    writer.close()
    await asyncio.wait_for(writer.wait_closed(), 30)
    assert_stats(writer.get_extra_info("stats"), ONE_WAY, 0)
    assert_clean(ours, i2pd, sid, watch)


async def test_download_from_i2pd_then_its_close(
    i2pd: I2pdInstance, sam_session: SAMSession, ours: Session, watch: Watch
) -> None:
    """i2pd sends data and then its CLOSE right behind it: we deliver every byte, then EOF."""
    data = os.urandom(ONE_WAY)
    source = PeerThread("sam-source", lambda: source_once(sam_session, data, timeout=110)).start()
    reader, writer = await ours.open_connection(sam_session.destination, timeout=60)
    sid = writer.get_extra_info("stream_id")
    got = await asyncio.wait_for(reader.read(), 90)  # up to i2pd's CLOSE
    assert sha(got) == sha(data), f"{len(got)} bytes {diagnose(ours, i2pd)}"
    assert await source.wait(30) == ours.destination.to_base64()
    writer.close()
    await asyncio.wait_for(writer.wait_closed(), 30)
    assert_stats(writer.get_extra_info("stats"), 0, ONE_WAY)
    assert_clean(ours, i2pd, sid, watch)


@pytest.mark.i2pd_versions
async def test_ping_i2pd_destination(
    i2pd: I2pdInstance, sam_session: SAMSession, ours: Session, watch: Watch
) -> None:
    """i2pd answers our signed ECHO with a pong: ping returns an RTT."""
    # the first message to a fresh i2pd peer is sometimes lost (observed: about one run
    # in four, no pong at all, while the next ping is answered in ~2 ms), so ask again
    rtts: list[float] = []
    for _ in range(4):
        try:
            rtts.append(await ours.ping(sam_session.destination, timeout=5))
            break
        except TimeoutError:
            continue
    assert rtts, f"no pong in 4 pings: {diagnose(ours, i2pd)}"
    assert 0 < rtts[0] < 5
    assert watch.new_errors(ours) == 0
    assert "unknown_pong" not in watch.new_counts(ours)
