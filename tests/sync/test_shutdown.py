"""StreamSocket.shutdown: SHUT_RD discards, SHUT_RDWR half-closes, both idempotent."""

from __future__ import annotations

import socket

import pytest

from i2p_streaming.sync import SyncSession
from tests.support.sockets import pair_on, wait_peer_eof

pytestmark = pytest.mark.timeout(30)


def test_shutdown_rd_discards_and_returns_empty(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    with b.listen(24) as listener:
        sock, conn = pair_on(a, listener, 24)
        sock.sendall(b"unread")
        assert conn.recv(2) == b"un"
        conn.shutdown(socket.SHUT_RD)
        assert conn.recv(100) == b""  # buffered bytes were dropped
        conn.setblocking(False)
        assert conn.recv(100) == b""  # never BlockingIOError after SHUT_RD
        conn.sendall(b"reply")  # writing still works
        assert sock.recv(100) == b"reply"
        conn.close()
        sock.close()


def test_shutdown_rd_ignores_later_data(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    with b.listen(25) as listener:
        sock, conn = pair_on(a, listener, 25)
        conn.shutdown(socket.SHUT_RD)
        sock.sendall(b"late data")
        sock.shutdown(socket.SHUT_WR)
        wait_peer_eof(conn)
        assert conn.recv(100) == b""
        conn.close()
        sock.close()


def test_shutdown_rdwr_half_closes_and_is_idempotent(
    sessions: tuple[SyncSession, SyncSession],
) -> None:
    a, b = sessions
    with b.listen(26) as listener:
        sock, conn = pair_on(a, listener, 26)
        sock.shutdown(socket.SHUT_RDWR)
        sock.shutdown(socket.SHUT_WR)  # second time: nothing more is sent
        assert sock.recv(10) == b""
        with pytest.raises(BrokenPipeError, match="SHUT_WR"):
            sock.sendall(b"x")
        with pytest.raises(BrokenPipeError):
            sock.sendall(b"")
        assert conn.recv(10) == b""  # the peer saw our CLOSE
        conn.close()
        sock.close()
