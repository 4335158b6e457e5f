"""Edge and error paths of the blocking front end: timeouts and non-blocking modes, shutdown
variants, makefile modes, listener/session close while in use, RequestServer errors."""

from __future__ import annotations

import io
import socket
import socketserver
import threading

import pytest

from i2p_streaming.sync import Listener, StreamSocket, SyncSession, create_session, serve
from i2p_streaming.sync.server import RequestServer

pytestmark = pytest.mark.timeout(30)


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


# ---------------------------------------------------------------------- timeouts and modes


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


# ---------------------------------------------------------------------- end of input, shutdown


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


def test_use_after_close(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    with b.listen(27) as listener:
        sock, conn = pair_on(a, listener, 27)
        sock.close()
        sock.close()  # idempotent
        with pytest.raises(OSError, match="closed"):
            sock.sendall(b"x")
        assert conn.recv(1) == b""
        conn.close()


def test_recv_on_closed_socket_raises_even_after_the_stream_ended(
    sessions: tuple[SyncSession, SyncSession],
) -> None:
    a, b = sessions
    with b.listen(38) as listener:
        sock, conn = pair_on(a, listener, 38)
        sock.close()
        p = sock._proto
        with p.cond:  # our CLOSE was acknowledged: connection_lost(None) has run
            assert p.cond.wait_for(lambda: p.lost, 10)
        with pytest.raises(OSError, match="closed"):
            sock.recv(1)
        conn.close()


def test_recv_after_peer_reset_then_local_abort(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    with b.listen(28) as listener:
        sock, conn = pair_on(a, listener, 28)
        sock.abort()
        buf = bytearray(8)
        with pytest.raises(ConnectionResetError):
            conn.recv_into(buf)
        with pytest.raises(ConnectionResetError):
            conn.sendall(b"")
        with pytest.raises(OSError, match="closed"):
            sock.sendall(b"x")
        conn.close()


# ---------------------------------------------------------------------- makefile


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


# ---------------------------------------------------------------------- listeners


def test_listener_close_wakes_a_blocked_accept(sessions: tuple[SyncSession, SyncSession]) -> None:
    _, b = sessions
    listener = b.listen(31)
    assert listener.fileno() == -1
    listener.settimeout(None)
    assert listener.gettimeout() is None
    started = threading.Event()
    errors: list[BaseException] = []

    def waiter() -> None:
        started.set()
        try:
            listener.accept()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=waiter) for _ in range(2)]
    for t in threads:
        t.start()
    started.wait(5)
    listener.close()
    listener.close()  # idempotent
    for t in threads:
        t.join(5)
        assert not t.is_alive()
    assert len(errors) == 2
    assert all(isinstance(e, OSError) and "closed" in str(e) for e in errors)


def test_listener_close_resets_unaccepted_streams(
    sessions: tuple[SyncSession, SyncSession],
) -> None:
    a, b = sessions
    listener = b.listen(32)
    sock = a.connect(b.destination, 32, timeout=10)  # accepted by the session, not by us
    # wait until the stream is queued for accept(): see the race in the report
    q = listener._queue
    with q.not_empty:
        assert q.not_empty.wait_for(lambda: q._qsize() > 0, 10)
    listener.close()
    with pytest.raises(ConnectionResetError):
        sock.recv(1)
    with pytest.raises(ConnectionRefusedError):
        a.connect(b.destination, 32, timeout=10)
    sock.close()


# ---------------------------------------------------------------------- sessions


def test_session_close_with_open_sockets(router_address: str) -> None:
    b = create_session(router_address)
    a = create_session(router_address)
    listener = b.listen(33)
    sock, conn = pair_on(a, listener, 33)
    sock.sendall(b"before")
    assert conn.recv(10) == b"before"
    a.close(timeout=2)
    a.close()  # idempotent
    assert conn.recv(10) == b""  # a closed its stream cleanly
    assert sock.recv(10) == b""
    with pytest.raises(OSError, match=r"ended|closed"):
        sock.sendall(b"after")
    with pytest.raises(OSError, match="closed"):
        sock.get_extra_info("stats")
    sock.shutdown(socket.SHUT_RDWR)  # harmless once the loop is gone
    sock.close()
    sock.abort()
    with pytest.raises(OSError, match="closed"):
        a.listen(1)
    with pytest.raises(OSError, match="closed"):
        a.ping(b.destination, timeout=1)
    conn.close()
    b.close()
    listener.close()  # after its session: no error


def test_blocking_call_from_the_loop_thread_is_refused(
    sessions: tuple[SyncSession, SyncSession],
) -> None:
    a, b = sessions
    result: list[BaseException] = []
    done = threading.Event()

    def on_loop() -> None:
        try:
            a.resolve(b.b32)
        except BaseException as exc:
            result.append(exc)
        done.set()

    a.loop.call_soon_threadsafe(on_loop)
    assert done.wait(5)
    assert isinstance(result[0], RuntimeError) and "loop thread" in str(result[0])
    assert a.resolve(b.destination.to_base64()) == b.destination


def test_create_session_errors_leave_no_loop_thread(tmp_path: object) -> None:
    before = {t for t in threading.enumerate() if t.name == "i2p-streaming-loop"}
    with pytest.raises(ValueError, match="not a number"):
        create_session("127.0.0.1:http")
    with pytest.raises(FileNotFoundError, match="create_keys"):
        create_session("127.0.0.1:1", keys=f"{tmp_path}/missing.dat")
    after = {t for t in threading.enumerate() if t.name == "i2p-streaming-loop"}
    assert after <= before


# ---------------------------------------------------------------------- RequestServer


class Echo(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(self.rfile.read())


class Broken(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        raise RuntimeError("handler bug")


def test_request_server_handler_error_is_logged_and_stream_closed(
    sessions: tuple[SyncSession, SyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    a, b = sessions
    server = serve(b.listen(34), Broken)
    try:
        sock = a.connect(b.destination, 34, timeout=10)
        assert sock.recv(10) == b""  # the server half-closed after the failing handler
        sock.close()
    finally:
        server.shutdown()
        server.server_close()
    assert "handler for" in caplog.text and "handler bug" in caplog.text


def test_request_server_handle_request_and_close(
    sessions: tuple[SyncSession, SyncSession],
) -> None:
    a, b = sessions
    with RequestServer(b.listen(35), Echo) as server:
        assert server.server_address == (b.b32, 35) and server.server_port == 35
        assert server.handle_request(0.01) is False  # nobody came
        sock = a.connect(b.destination, 35, timeout=10)
        assert server.handle_request(10) is True
        sock.sendall(b"echo me")
        sock.shutdown(socket.SHUT_WR)
        assert sock.makefile("rb").read() == b"echo me"
        sock.close()
    # serve_forever returns once the listener is closed
    finished = threading.Event()

    def run() -> None:
        server.serve_forever(0.01)
        finished.set()

    t = threading.Thread(target=run)
    t.start()
    t.join(5)
    assert finished.is_set()


def test_serve_forever_stops_when_listener_closes(
    sessions: tuple[SyncSession, SyncSession],
) -> None:
    _, b = sessions
    server = serve(b.listen(36), Echo)
    server.server_close()  # blocked in accept(): wakes with OSError, loop ends
    server._stopped.wait(5)
    assert server._stopped.is_set()
    server.shutdown()  # returns at once


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
