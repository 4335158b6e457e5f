"""StreamSocket.recv_ready: True exactly when recv would return at once."""

from __future__ import annotations

import pytest

from i2p_streaming.sync import SyncSession

pytestmark = pytest.mark.timeout(30)


def test_recv_ready_follows_data_and_end_of_input(
    sessions: tuple[SyncSession, SyncSession],
) -> None:
    a, b = sessions
    listener = b.listen(60)
    sock = a.connect(b.destination, 60, timeout=10)
    conn, _ = listener.accept(10)
    assert not sock.recv_ready()
    conn.sendall(b"ab")
    assert sock.recv(1) == b"a"  # both bytes came in one packet
    assert sock.recv_ready()
    assert sock.recv(1) == b"b"
    assert not sock.recv_ready()
    conn.close()
    assert sock.recv(1) == b""  # the peer's CLOSE
    assert sock.recv_ready()
    sock.close()
    listener.close()
