"""``serve --wsgi MODULE:APP`` and ``serve --asgi MODULE:APP`` as real processes over the
embedded router, the app imported from the process's current folder, fetched with httpx
through :class:`~i2p_streaming.web.I2PTransport`; Ctrl-C stops them (exit 130, the ASGI
lifespan shutdown run); bad app specs are one-line errors before any network."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from i2p_streaming import sync
from i2p_streaming.data import b32_address_to_hash
from i2p_streaming.router import EmbeddedRouter
from tests.cli.helpers import finish, read_line, spawn

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
from i2p_streaming.web import I2PTransport  # noqa: E402 - after the extras are known

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT: POSIX")

WSGI_APP = """
def app(environ, start_response):
    body = " ".join(
        ("wsgi", environ["PATH_INFO"], environ.get("HTTP_X_I2P_DESTB32", "-"),
         environ["REMOTE_ADDR"])
    ).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
"""

ASGI_APP = """
import pathlib

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                pathlib.Path("started").write_text("yes")
                await send({"type": "lifespan.startup.complete"})
            else:
                pathlib.Path("stopped").write_text("yes")
                await send({"type": "lifespan.shutdown.complete"})
                return
    headers = dict(scope["headers"])
    words = ("asgi", scope["path"], headers.get(b"x-i2p-destb32", b"-").decode(),
             scope["client"][0])
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": " ".join(words).encode()})
"""


def _fetch(router: tuple[str, int], b32: str) -> tuple[str, list[tuple[int, str]]]:
    """Two requests (one with a forged ``X-I2P-DestB32``) from a fresh blocking session:
    (the client's b32, [(status, body)])."""
    with (
        sync.create_session(router) as session,
        httpx.Client(transport=I2PTransport(session), timeout=20) as client,
    ):
        got = []
        for path, headers in (("/hello", {}), ("/x", {"X-I2P-DestB32": "forged.b32.i2p"})):
            r = client.get(f"http://{b32}{path}", headers=headers)
            got.append((r.status_code, r.text))
        return session.b32, got


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("kind", "source"), [("wsgi", WSGI_APP), ("asgi", ASGI_APP)])
async def test_serve_an_app(router: EmbeddedRouter, tmp_path: Path, kind: str, source: str) -> None:
    (tmp_path / "site_app.py").write_text(source)
    proc = await spawn("serve", f"--{kind}", "site_app:app", router=router.address, cwd=tmp_path)
    line = await read_line(proc.stdout, 30)
    assert line.startswith(f"serving site_app:app ({kind.upper()}) at http://"), line
    assert line.endswith("(port 80)\n"), line
    b32 = line.split("http://")[1].split("/")[0]
    await router.wait_until(lambda r: r.find(b32_address_to_hash(b32)) is not None, timeout=20)
    me, got = await asyncio.to_thread(_fetch, router.address, b32)
    assert got == [(200, f"{kind} /hello {me} {me}"), (200, f"{kind} /x {me} {me}")]
    proc.send_signal(signal.SIGINT)
    status, _, err = await finish(proc, timeout=3.0)  # "within 2 s", with slack
    assert (status, b"Traceback" in err) == (130, False), err
    assert b"delays partial packets" not in err  # the session has web_stream_options()
    if kind == "asgi":  # the lifespan events ran, the shutdown one after Ctrl-C
        assert (tmp_path / "started").exists() and (tmp_path / "stopped").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--wsgi", "site_app"], b"serve: --wsgi 'site_app': expected MODULE:APP, e.g. --wsgi"),
        (
            ["--asgi", "no_such_module:app"],
            b"serve: --asgi no_such_module:app: cannot import no_such_module: "
            b"No module named 'no_such_module'\n",
        ),
        (["--wsgi", "site_app:nope"], b"serve: --wsgi site_app:nope: site_app has no attribute"),
        (["--wsgi", "site_app:VALUE"], b"serve: --wsgi site_app:VALUE: int is not an app"),
        (["--wsgi", "broken:app"], b"importing broken failed: ZeroDivisionError: division by"),
        (["--asgi", "site_app:app"], b"needs uvicorn, which is not installed: pip install 'i2p-"),
        (["--wsgi", "a:b", "--asgi", "a:b"], b"argument --asgi: not allowed with argument --wsgi"),
    ],
)
async def test_serve_app_errors(tmp_path: Path, args: list[str], message: bytes) -> None:
    (tmp_path / "site_app.py").write_text(WSGI_APP + "VALUE = 5\n")
    (tmp_path / "broken.py").write_text("1 / 0\n")
    # an "uvicorn" that cannot be imported, found first (the current folder leads sys.path)
    (tmp_path / "uvicorn.py").write_text("raise ImportError('no uvicorn here')\n")
    proc = await spawn("serve", *args, router=("127.0.0.1", 1), cwd=tmp_path)
    status, out, err = await finish(proc)
    assert (status, out) == (2, b"")
    assert message in err and err.count(b"\n") == 1, err
