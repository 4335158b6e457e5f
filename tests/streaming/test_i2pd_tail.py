"""No tail loss into i2pd's SAM: a reply written, drained and closed at once arrives whole.

i2pd's SAM bridge (2.56 and 2.59, ``SAMSocket::I2PReceive``) reads a stream whose CLOSE it
has processed only once more: if more than one 8 KiB chunk still waited in the stream's
receive queue then, the rest is lost and the SAM client gets neither data nor EOF. Our
CLOSE therefore goes alone, once every data packet is acknowledged (``sending.py``).

Every case here: a SAM client connects to our server and sends a request naming a size; the
server reads it, writes that many bytes, ``drain()``s and ``close()``s at once; the client
reads to EOF and must get exactly those bytes. One i2pd per version serves all the runs, and
one of our sessions per version (kept for the module) all of its cases.
Before the change, i2pd 2.56 cut short both 1 MB replies tried here (the client got ~35 packets
less, then no EOF). Time: ~5-15 s per version. Against i2pd 2.59 runs took 8-15 s each
(176 s in all) until the tail probe (``streaming/tailprobe.py``): 2.59 held the ACK of each
burst that arrived in the millisecond of its previous ACK, and we waited for the 100 ms RTO.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import struct
import time

import pytest
import pytest_asyncio

from i2p_streaming.aio import Session
from tests.streaming.i2pd_peer import PeerThread
from tests.support.i2pd_sessions import KeptSessions
from tests.support.sam import SAMError, SAMSession

pytestmark = [
    pytest.mark.i2pd,
    pytest.mark.i2pd_versions,
    pytest.mark.timeout(300),
    pytest.mark.asyncio(loop_scope="module"),
]

MB = 1_000_000
RUNS = 20
#: Reply sizes from 1 B to 256 KiB, straddling one packet (1812 B payload), the initial
#: window and the larger windows (128 / 256 packets).
SIZES = (1, 1811, 1812, 1813, 4096, 16_383, 65_536, 131_071, 231_936, 262_144)
REQUEST = 1024  # request body after the 8-byte header (reply size, body size)


def ask(session: SAMSession, dest: str, size: int, body: bytes) -> tuple[int, str]:
    """Connect, send the reply ``size`` and ``body``, read to EOF; returns (bytes read, sha256
    or "timeout" when no EOF came)."""
    for attempt in range(5):  # a fresh session's LeaseSet may not be in i2pd's netdb yet
        try:
            sock = session.connect(dest, timeout=60)
            break
        except SAMError as exc:
            if "CANT_REACH_PEER" not in str(exc) or attempt == 4:
                raise
            time.sleep(1.0)
    sock.settimeout(10)  # a whole reply ends in well under a second
    digest = hashlib.sha256()
    n = 0
    with sock:
        sock.sendall(struct.pack(">II", size, len(body)) + body)
        try:
            while chunk := sock.recv(65536):
                digest.update(chunk)
                n += len(chunk)
        except TimeoutError:
            return n, "timeout"  # no EOF
    return n, digest.hexdigest()


def reply_for(size: int) -> bytes:
    return hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1)


@pytest_asyncio.fixture(loop_scope="module")
async def ours(kept_sessions: KeptSessions, i2pd_flavour: str) -> Session:
    """Our zero-hop session on this flavour's i2pd, kept for the module's tests."""
    (session,) = await kept_sessions.get(i2pd_flavour, count=1)
    return session


async def _serve_runs(
    ours: Session, sam_session: SAMSession, cases: list[tuple[int, int]]
) -> list[str]:
    """Run ``cases`` ((request body size, reply size)) one after another; returns failures."""
    failures: list[str] = []
    errors = ours.manager.internal_errors

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            size, body_size = struct.unpack(">II", await reader.readexactly(8))
            await reader.readexactly(body_size)
            writer.write(reply_for(size)[:size])
            await writer.drain()
        finally:
            writer.close()

    server = await ours.start_server(handler, 0)
    try:
        dest = ours.destination.to_base64()
        for body_size, size in cases:
            body = os.urandom(body_size)
            peer = PeerThread("sam-ask", functools.partial(ask, sam_session, dest, size, body))
            n, digest = await peer.start().wait(100)
            expected = hashlib.sha256(reply_for(size)[:size]).hexdigest()
            if (n, digest) != (size, expected):
                failures.append(f"request {body_size} B, reply {size} B: got {n} B ({digest})")
    finally:
        server.close()
    assert ours.manager.internal_errors == errors
    return failures


async def test_one_mb_reply_then_close_arrives_whole(
    ours: Session, sam_session: SAMSession
) -> None:
    """RUNS x (request, 1 MB reply, close at once; the first request 1 MB too): every reply
    whole, with EOF."""
    cases = [(MB if i == 0 else REQUEST, MB) for i in range(RUNS)]
    failures = await _serve_runs(ours, sam_session, cases)
    assert not failures, f"{len(failures)}/{RUNS} cut short: {failures}"


async def test_replies_of_every_size_then_close_arrive_whole(
    ours: Session, sam_session: SAMSession
) -> None:
    """Replies from 1 B to 256 KiB, each closed at once: every one whole, with EOF."""
    failures = await _serve_runs(ours, sam_session, [(REQUEST, s) for s in SIZES])
    assert not failures, failures
