"""WSGI over the blocking API: Flask via serve_wsgi, wsgiref handlers via sync.serve, fetched
with the blocking httpx transport."""

from __future__ import annotations

import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler

import httpx
import pytest

from i2p_streaming.data.base import b64encode
from i2p_streaming.sync import SyncSession, serve
from i2p_streaming.web import I2PTransport, serve_wsgi
from tests.web.apps import flask_app

pytestmark = pytest.mark.timeout(60)


def test_flask_over_serve_wsgi(sync_pair: tuple[SyncSession, SyncSession]) -> None:
    client, server = sync_pair
    site = serve_wsgi(flask_app(), server, 80)
    try:
        with httpx.Client(transport=I2PTransport(client), timeout=20) as http:
            r = http.get(
                f"http://{server.b32}/hello",
                headers={"X-I2P-DestB32": "spoofed.b32.i2p", "X_I2P_DestHash": "spoofed"},
            )
            assert r.status_code == 200
            body = r.json()
            assert body["hello"] == "flask" and body["remote"] == client.b32
            me = client.destination
            assert body["i2p"] == {
                "x-i2p-desthash": b64encode(me.hash),
                "x-i2p-destb64": me.to_base64(),
                "x-i2p-destb32": me.b32,
            }
            payload = bytes(range(256)) * 1024
            r = http.post(f"http://{server.b32}/echo", content=payload)
            assert r.status_code == 200 and r.content == payload
    finally:
        site.shutdown()
        site.server_close()
    assert site.wait(5)


def test_sync_serve_runs_wsgiref_handlers(sync_pair: tuple[SyncSession, SyncSession]) -> None:
    """The issue's bug: wsgiref's handler needs the server's base_environ and get_app."""
    client, server = sync_pair

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        text = f"{environ['SERVER_NAME']} {environ['SERVER_PORT']} {environ['REMOTE_ADDR']}"
        return [text.encode()]

    site = serve(server.listen(81), WSGIRequestHandler, app=app)
    try:
        with httpx.Client(transport=I2PTransport(client), timeout=20) as http:
            r = http.get(f"http://{server.b32}:81/")
        assert r.status_code == 200
        assert r.text == f"{server.b32} 81 {client.b32}"
    finally:
        site.shutdown()
        site.server_close()


def test_serve_wsgi_bounds_handler_threads(sync_pair: tuple[SyncSession, SyncSession]) -> None:
    """With max_threads=2, a third request waits until a handler ends."""
    client, server = sync_pair
    release = threading.Event()
    inside = threading.Semaphore(0)
    running = 0
    most = 0
    lock = threading.Lock()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        inside.release()
        release.wait(20)
        with lock:
            running -= 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]

    site = serve_wsgi(app, server, 80, max_threads=2)
    results: list[int] = []
    try:
        with httpx.Client(transport=I2PTransport(client), timeout=30) as http:

            def fetch() -> None:
                results.append(http.get(f"http://{server.b32}/").status_code)

            threads = [threading.Thread(target=fetch) for _ in range(3)]
            for t in threads:
                t.start()
            assert inside.acquire(timeout=20) and inside.acquire(timeout=20)
            # two handlers are inside the app; the third request is not let in
            assert not inside.acquire(timeout=0.5)
            assert site.active_threads == 2
            release.set()
            for t in threads:
                t.join(20)
    finally:
        release.set()
        site.shutdown()
        site.server_close()
    assert results == [200, 200, 200] and most == 2
