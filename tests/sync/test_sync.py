"""Blocking API over the embedded router: sockets, listeners, makefile, http.server."""

from __future__ import annotations

import http.client
import http.server
import os
import socket
import threading

import pytest

from i2p_streaming.sync import Listener, StreamSocket, SyncSession, create_session, serve

pytestmark = pytest.mark.timeout(30)


def echo_once(listener: Listener) -> threading.Thread:
    def run() -> None:
        conn, _peer = listener.accept(timeout=10)
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_echo_sendall_recv_and_names(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    with b.listen(7) as listener:
        assert listener.getsockname() == (b.b32, 7)
        thread = echo_once(listener)
        data = os.urandom(300_000)
        with a.connect(b.b32, 7, timeout=10) as sock:
            assert sock.getpeername() == (b.b32, 7)
            assert sock.gettimeout() == 10
            assert sock.fileno() == -1
            assert sock.get_extra_info("peer_destination") == b.destination

            def send_all_then_half_close() -> None:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)

            sender = threading.Thread(target=send_all_then_half_close)
            sender.start()
            got = bytearray()
            buf = bytearray(10000)
            while n := sock.recv_into(buf):
                got += buf[:n]
            sender.join(10)
            assert bytes(got) == data
            assert sock.get_extra_info("stats").bytes_sent == len(data)
        thread.join(10)
        assert not thread.is_alive()


def test_accept_timeout_and_recv_timeout(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    listener = b.listen(8)
    listener.settimeout(0.05)
    with pytest.raises(TimeoutError):
        listener.accept()
    sock = a.connect(b.destination, 8)
    conn, peer = listener.accept(timeout=10)
    assert peer == (a.b32, 0)
    conn.settimeout(0.05)
    with pytest.raises(TimeoutError):
        conn.recv(10)
    conn.setblocking(False)
    assert not conn.getblocking()
    with pytest.raises(BlockingIOError):
        conn.recv(10)
    conn.setblocking(True)
    sock.send(b"abc")
    assert conn.recv(10) == b"abc"
    sock.close()
    assert conn.recv(10) == b""
    conn.close()
    listener.close()
    with pytest.raises(OSError, match="closed"):
        listener.accept()


def test_half_close_both_ways(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    with b.listen(9) as listener:
        sock = a.connect(b.destination, 9)
        conn, _ = listener.accept(timeout=10)
        conn.sendall(b"first")
        conn.shutdown(socket.SHUT_WR)
        with pytest.raises(BrokenPipeError):
            conn.sendall(b"no")
        assert sock.makefile("rb").read() == b"first"
        sock.sendall(b"second")
        sock.shutdown(socket.SHUT_WR)
        assert conn.makefile("rb").read() == b"second"
        sock.close()
        conn.close()


def test_refused_reset_and_connect_timeout(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    with pytest.raises(ConnectionRefusedError):
        a.connect(b.destination, 99)
    with b.listen(10) as listener:
        sock = a.connect(b.destination, 10)
        conn, _ = listener.accept(timeout=10)
        conn.abort()
        with pytest.raises(ConnectionResetError):
            sock.recv(1)
        with pytest.raises(ConnectionResetError):
            sock.sendall(b"x")
    with pytest.raises(TimeoutError):
        a.connect(b.destination, 11, timeout=0.0)


def test_makefile_text_and_ping(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    assert a.ping(b.destination, timeout=5) >= 0
    assert a.ping(b.destination, timeout=5, count=2, interval=0.5) >= 0
    with pytest.raises(ValueError, match="interval"):
        a.ping(b.destination, interval=0)
    with b.listen(12) as listener:
        thread = echo_once(listener)
        sock = a.connect(b.destination, 12)
        f = sock.makefile("rw", encoding="utf-8", newline="\n")
        sock.close()  # the file keeps the stream open
        f.write("héllo\n")
        f.flush()
        assert f.readline() == "héllo\n"
        f.close()
        thread.join(10)


class Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = f"hello {self.path} from {self.client_address[0][:8]}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class I2PHTTPConnection(http.client.HTTPConnection):
    def __init__(self, session: SyncSession, dest: str, port: int) -> None:
        super().__init__(dest, port, timeout=10)
        self.session = session
        self.dest = dest

    def connect(self) -> None:
        self.sock = self.session.connect(self.dest, self.port, timeout=self.timeout)


def test_http_server_over_blocking_api(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    server = serve(b.listen(80), Hello)
    try:
        conn = I2PHTTPConnection(a, b.b32, 80)
        for path in ("/one", "/two"):  # two requests on one keep-alive stream
            conn.request("GET", path)
            response = conn.getresponse()
            assert response.status == 200
            assert response.read() == f"hello {path} from {a.b32[:8]}".encode()
        conn.close()
        # Connection: close — the response is read after http.client closed its socket
        conn = I2PHTTPConnection(a, b.b32, 80)
        conn.request("GET", "/three", headers={"Connection": "close"})
        assert conn.getresponse().read() == f"hello /three from {a.b32[:8]}".encode()
        conn.close()
    finally:
        server.shutdown()
        server.server_close()


def test_threads_share_a_session(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    listener = b.listen(13)
    results: list[bytes] = []

    def serve_all() -> None:
        for _ in range(5):
            conn, _ = listener.accept(timeout=10)
            threading.Thread(
                target=lambda c=conn: (c.sendall(c.makefile("rb").read()), c.close())
            ).start()

    def client(i: int) -> None:
        sock: StreamSocket = a.connect(b.destination, 13)
        sock.sendall(str(i).encode() * 1000)
        sock.shutdown(socket.SHUT_WR)
        results.append(sock.makefile("rb").read())
        sock.close()

    acceptor = threading.Thread(target=serve_all)
    acceptor.start()
    clients = [threading.Thread(target=client, args=(i,)) for i in range(5)]
    for t in clients:
        t.start()
    for t in [*clients, acceptor]:
        t.join(20)
    assert sorted(results) == sorted(str(i).encode() * 1000 for i in range(5))
    listener.close()


def test_create_session_context_and_close(router_address: str) -> None:
    with create_session(router_address) as s:
        assert s.b32.endswith(".b32.i2p")
    with pytest.raises(OSError, match="closed"):
        s.connect(s.destination, 1)
