"""RequestServer and serve(): handlers that fail, handle_request, serve_forever."""

from __future__ import annotations

import socket
import socketserver
import threading

import pytest

from i2p_streaming.sync import SyncSession, serve
from i2p_streaming.sync.server import RequestServer

pytestmark = pytest.mark.timeout(30)


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
