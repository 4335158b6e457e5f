"""StreamSocket.makefile: modes, and files that outlive the socket."""

from __future__ import annotations

import io
import socket

import pytest

from i2p_streaming.sync import SyncSession
from tests.support.sockets import pair_on

pytestmark = pytest.mark.timeout(30)


def test_makefile_modes(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    with b.listen(29) as listener:
        sock, conn = pair_on(a, listener, 29)
        with pytest.raises(ValueError, match="invalid mode"):
            sock.makefile("r+")
        with pytest.raises(ValueError, match="'r' or 'w'"):
            sock.makefile("b")
        with pytest.raises(ValueError, match="binary"):
            sock.makefile("r", buffering=0)
        raw = sock.makefile("wb", buffering=0)
        assert isinstance(raw, io.RawIOBase)
        assert raw.writable() and not raw.readable() and not raw.seekable()
        assert raw.fileno() == -1
        assert raw.write(b"raw ") == 4
        wfile = sock.makefile("w", encoding="ascii")
        assert wfile.mode == "w"
        wfile.write("text\n")
        wfile.close()
        bw = sock.makefile("wb", buffering=8)
        bw.write(b"buffered")
        bw.close()
        sock.close()  # files still open: the stream stays open
        raw.write(b"!")
        raw.close()
        raw.close()  # idempotent
        rfile = conn.makefile("rb")
        assert rfile.read() == b"raw text\nbuffered!"
        rfile.close()
        with pytest.raises(ValueError, match="closed file"):
            raw.write(b"closed file")
        conn.close()


def test_makefile_file_outlives_socket_close_then_releases(
    sessions: tuple[SyncSession, SyncSession],
) -> None:
    a, b = sessions
    with b.listen(30) as listener:
        sock, conn = pair_on(a, listener, 30)
        f = conn.makefile("rb", buffering=0)
        conn.close()
        sock.sendall(b"data")
        sock.shutdown(socket.SHUT_WR)
        assert f.read() == b"data"
        f.close()  # last reference: now the stream closes, and the peer sees it
        assert sock.recv(10) == b""
        sock.close()
