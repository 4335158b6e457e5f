"""A slow reader pauses the stream (flow control) without losing data."""

from __future__ import annotations

import socket
import threading

import pytest

from i2p_streaming.sync import SyncSession
from tests.support.sockets import pair_on

pytestmark = pytest.mark.timeout(30)


def test_slow_reader_pauses_the_stream_without_losing_data(
    sessions: tuple[SyncSession, SyncSession],
) -> None:
    a, b = sessions
    with b.listen(37) as listener:
        sock, conn = pair_on(a, listener, 37)
        data = bytes(range(256)) * 2048  # 512 KiB, more than the socket's read high-water mark

        def send() -> None:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send)
        sender.start()
        p = conn._proto
        with p.cond:  # wait until the unread bytes made the socket pause the stream
            assert p.cond.wait_for(lambda: p.paused, 10)
        got = conn.makefile("rb").read()
        sender.join(10)
        assert got == data
        conn.close()
        sock.close()
