"""Blocking-socket helpers for tests: a connected socket pair, waiting for the peer's CLOSE."""

from __future__ import annotations

from i2p_streaming.sync import Listener, StreamSocket, SyncSession


def pair_on(a: SyncSession, listener: Listener, port: int) -> tuple[StreamSocket, StreamSocket]:
    """(client socket, accepted socket) for a new stream to ``listener``."""
    sock = a.connect(listener.session.destination, port, timeout=10)
    conn, _ = listener.accept(timeout=10)
    return sock, conn


def wait_peer_eof(conn: StreamSocket) -> None:
    """Block until ``conn`` has seen the peer's CLOSE (its loop-side protocol notifies)."""
    p = conn._proto
    with p.cond:
        assert p.cond.wait_for(lambda: p.eof or p.lost, 10)
