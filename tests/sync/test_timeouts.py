"""Blocking, timed and non-blocking socket modes: argument checks, sends on a full buffer,
recv/recv_into/send return values."""

from __future__ import annotations

import socket

import pytest

from i2p_streaming.sync import SyncSession
from tests.support.sockets import pair_on

pytestmark = pytest.mark.timeout(30)


def test_timeout_argument_validation_and_modes(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    with b.listen(20) as listener:
        sock, conn = pair_on(a, listener, 20)
        with pytest.raises(ValueError, match="non-negative"):
            sock.settimeout(-1)
        assert sock.gettimeout() == 10
        sock.settimeout(None)
        assert sock.gettimeout() is None and sock.getblocking()
        sock.setblocking(False)
        assert sock.gettimeout() == 0.0
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted, ignored
        assert sock.getsockname() == (a.b32, 0)
        assert conn.getsockname() == (b.b32, 20)
        with pytest.raises(OSError, match="detached"):
            sock.detach()
        with pytest.raises(ValueError, match="negative"):
            conn.recv(-1)
        conn.settimeout(0.05)
        buf = bytearray(4)
        with pytest.raises(TimeoutError, match="timed out"):
            conn.recv_into(buf)
        conn.setblocking(False)
        with pytest.raises(BlockingIOError):
            conn.recv_into(buf)
        assert "open" in repr(sock) and b.b32[:16] in repr(sock)
        sock.close()
        assert sock.closed and "closed" in repr(sock)
        conn.close()


def test_non_blocking_and_timed_send_on_a_full_buffer(
    sessions: tuple[SyncSession, SyncSession],
) -> None:
    a, b = sessions
    with b.listen(21) as listener:
        sock, conn = pair_on(a, listener, 21)  # conn never reads: the peer's window fills up
        big = b"x" * (4 * 1024 * 1024)
        sock.setblocking(False)
        with pytest.raises(BlockingIOError, match="send buffer is full"):
            sock.sendall(big)
        sock.settimeout(0.05)
        with pytest.raises(TimeoutError, match="send timed out"):
            sock.sendall(big)
        sock.abort()
        conn.close()


def test_recv_into_nbytes_and_send_return_value(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    with b.listen(22) as listener:
        sock, conn = pair_on(a, listener, 22)
        assert sock.send(memoryview(b"abcdef")) == 6
        sock.sendall(b"")  # an empty send on an open stream is fine
        sock.shutdown(socket.SHUT_WR)
        buf = bytearray(10)
        got = bytearray()
        while n := conn.recv_into(buf, 2):
            assert n <= 2
            got += buf[:n]
        assert got == b"abcdef"
        assert conn.recv_into(buf) == 0  # still end of input
        conn.close()
        sock.close()


def test_recv_after_peer_close_returns_empty_in_every_mode(
    sessions: tuple[SyncSession, SyncSession],
) -> None:
    a, b = sessions
    with b.listen(23) as listener:
        sock, conn = pair_on(a, listener, 23)
        sock.sendall(b"tail")
        sock.close()
        assert conn.recv(100) == b"tail"
        assert conn.recv(100) == b""
        conn.setblocking(False)
        assert conn.recv(100) == b""  # end of input is not "would block"
        conn.settimeout(0.01)
        assert conn.recv(100) == b""
        # our direction stays open after the peer's CLOSE (half-close)
        conn.sendall(b"still writable")
        conn.close()
