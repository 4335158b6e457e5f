"""``proxy http`` as a process over the embedded router: curl -x fetches from a site on I2P
by name and by b32 (GET, POST, CONNECT, keep-alive), the request reaches it in origin form
without proxy or identifying headers; clearnet, unknown and unreachable hosts get their
error page and no connection is attempted."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from i2p_streaming.cli.__main__ import main
from i2p_streaming.data import PrivateKeys
from i2p_streaming.router import EmbeddedRouter
from tests.cli.nethelpers import (
    I2PSite,
    TcpRecorder,
    curl,
    listening_port,
    needs_curl,
    start_cli,
    stop,
)

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="pipes and SIGINT: POSIX"),
    needs_curl,
]


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode().split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines if x)}


@pytest.mark.timeout(120)
async def test_curl_x_by_name_and_b32_origin_form_and_stripped_headers(
    router: EmbeddedRouter, tmp_path: Path
) -> None:
    page = b"a page on I2P\n" * 100
    async with I2PSite(router, page) as site:
        router.register_name("web.i2p", site.destination)
        proxy, line = await start_cli(router, "proxy", "http", "--listen", "127.0.0.1:0")
        assert line.startswith("proxy http listening on 127.0.0.1:"), line
        url = f"http://127.0.0.1:{listening_port(line)}"
        try:
            status, out, err = await curl(
                "-x", url, "-A", "curl-test",
                "-H", "Proxy-Authorization: Basic dXNlcjpwYXNz",
                "-H", "X-Forwarded-For: 10.1.2.3",
                "-H", "Referer: http://other.i2p/page",
                "-H", "Connection: x-secret",
                "-H", "X-Secret: 1",
                "-H", "Accept: text/plain",
                "http://web.i2p/some/path?q=1",
            )  # fmt: skip
            assert (status, out) == (0, page), err
            head, body = site.requests[-1]
            assert head.startswith(b"GET /some/path?q=1 HTTP/1.1\r\n"), head
            headers = _headers(head)
            assert headers["host"] == "web.i2p"
            assert headers["user-agent"] == "MYOB/6.66 (AN/ON)"
            assert headers["connection"] == "close"
            assert headers["accept"] == "text/plain"
            for name in ("proxy-authorization", "proxy-connection", "x-forwarded-for"):
                assert name not in headers
            assert "referer" not in headers and "x-secret" not in headers
            # by b32, with a port, a same-host Referer kept
            ref = f"http://{site.b32}/"
            status, out, err = await curl("-x", url, "-e", ref, f"http://{site.b32}:80/x")
            assert (status, out) == (0, page), err
            headers = _headers(site.requests[-1][0])
            assert headers["host"] == site.b32 and headers["referer"] == ref
            # POST with a body
            status, out, err = await curl("-x", url, "--data-binary", "a=1&b=2", "http://web.i2p/f")
            assert (status, out) == (0, page), err
            head, body = site.requests[-1]
            assert head.startswith(b"POST /f HTTP/1.1\r\n") and body == b"a=1&b=2"
            # a large POST with Expect: 100-continue: the proxy answers it at once
            upload = tmp_path / "upload.bin"
            upload.write_bytes(os.urandom(300_000))
            status, out, err = await curl(
                "-v",
                "-x",
                url,
                "-H",
                "Expect: 100-continue",
                "--data-binary",
                f"@{upload}",
                "http://web.i2p/up",
            )
            assert (status, out) == (0, page), err
            assert b"HTTP/1.1 100 Continue" in err, err.decode()
            head, body = site.requests[-1]
            assert body == upload.read_bytes() and b"expect" not in head.lower()
            # keep-alive: two requests on one client connection (each its own stream)
            before = len(site.requests)
            status, out, err = await curl("-v", "-x", url, "http://web.i2p/1", "http://web.i2p/2")
            assert (status, out) == (0, page + page), err
            assert b"Re-using existing connection" in err, err.decode()
            assert [h.split(b" ")[1] for h, _ in site.requests[before:]] == [b"/1", b"/2"]
            # CONNECT (curl --proxytunnel): the bytes of the tunnel reach the site as sent
            status, out, err = await curl("-p", "-x", url, "http://web.i2p/tunnelled")
            assert (status, out) == (0, page), err
            head = site.requests[-1][0]
            assert head.startswith(b"GET /tunnelled HTTP/1.1\r\n")
            assert _headers(head)["host"] == "web.i2p"
        finally:
            status, err = await stop(proxy)
    assert status == 130
    assert b"Traceback" not in err


async def _raw(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    try:
        return await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()


@pytest.mark.timeout(120)
async def test_error_pages_and_no_clearnet_connection(router: EmbeddedRouter) -> None:
    async with I2PSite(router, b"up\n") as site, TcpRecorder() as local:
        proxy, line = await start_cli(router, "proxy", "http", "--listen", "127.0.0.1:0")
        port = listening_port(line)
        url = f"http://127.0.0.1:{port}"
        unknown_b32 = PrivateKeys.generate().destination.b32
        try:
            cases = {
                f"http://127.0.0.1:{local.port}/": 403,
                f"http://localhost:{local.port}/": 403,
                "http://nobody.i2p/": 404,
                f"http://{unknown_b32}/": 504,
                f"http://{site.b32}:81/": 502,
            }
            for target, expected in cases.items():
                status, out, err = await curl("-i", "-x", url, target)
                assert status == 0, err
                head, _, body = out.partition(b"\r\n\r\n")
                reason = {403: b"Forbidden", 404: b"Not Found", 502: b"Bad Gateway"}
                reason[504] = b"Gateway Timeout"
                assert head.startswith(b"HTTP/1.1 %d %s\r\n" % (expected, reason[expected]))
                assert b"content-type: text/html; charset=utf-8" in head.lower()
                assert b"<h1>%d " % expected in body
            # CONNECT to a clearnet address: refused before anything is connected
            status, _, err = await curl("-p", "-x", url, f"http://127.0.0.1:{local.port}/")
            assert status != 0 and b"403" in err, err
            # https:// as an absolute URI, a request that is not for a proxy, invalid URLs,
            # CONNECT without a port, a 120 KB head: 400
            for request in (
                b"GET https://web.i2p/ HTTP/1.1\r\nHost: web.i2p\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: web.i2p\r\n\r\n",
                b"NOT HTTP\r\n\r\n",
                b"GET http://[::1/ HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET http://web.i2p:99999/ HTTP/1.1\r\nHost: x\r\n\r\n",
                b"CONNECT web.i2p HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET http://web.i2p/ HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 20000 + b"\r\n",
            ):
                assert (await _raw(port, request)).startswith(b"HTTP/1.1 400 "), request
            assert local.accepted == 0
            assert site.requests == []
        finally:
            status, err = await stop(proxy)
    assert status == 130
    assert b"Traceback" not in err


def test_without_h11_proxy_http_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before any network: no h11 importable -> one line naming the extra, exit 2."""
    monkeypatch.setitem(sys.modules, "h11", None)  # makes `import h11` fail
    monkeypatch.delitem(sys.modules, "i2p_streaming.cli.httpproxy", raising=False)
    monkeypatch.setenv("I2CP_ROUTER", "127.0.0.1:9")
    assert main(["proxy", "http", "--listen", "127.0.0.1:0"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "proxy http: the HTTP proxy needs the h11 package: "
        "pip install 'i2p-streaming[cli]' (or pip install h11)\n"
    )
