"""``serve DIR`` as a real process over the embedded router, fetched with ``http.client`` over
a blocking stream socket: byte-exact files, HEAD, keep-alive, 404, no way out of DIR; and
``--pcap`` capturing what it served."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from i2p_streaming import sync
from i2p_streaming.cli.serve import parse_range
from i2p_streaming.data import b32_address_to_hash
from i2p_streaming.router import EmbeddedRouter
from tests.cli.helpers import finish, read_line, spawn
from tests.support.pcapread import read_pcap

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT: POSIX")

BLOB = os.urandom(300_000)
RANGES = {
    "bytes=1000-1999": (206, "bytes 1000-1999/300000", BLOB[1000:2000]),
    "bytes=-500": (206, "bytes 299500-299999/300000", BLOB[-500:]),
    "bytes=299990-": (206, "bytes 299990-299999/300000", BLOB[299990:]),
    "bytes=299990-400000": (206, "bytes 299990-299999/300000", BLOB[299990:]),
    "bytes=300000-": (416, "bytes */300000", b""),
    "bytes=0-1,5-6": (200, None, BLOB),  # several ranges: the whole file
}
#: Requests for nothing in DIR (the file "secret.txt" is next to DIR): every one a 404.
OUTSIDE = (
    "/missing",
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/sub/../../secret.txt",
    "//../secret.txt",
    "/escape.txt",
)


def _site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<h1>hello eepsite</h1>\n")
    (root / "blob.bin").write_bytes(BLOB)
    (root / "sub" / "a.txt").write_text("a file in sub\n")
    (tmp_path / "secret.txt").write_text("outside\n")
    (root / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (root / "inside.txt").symlink_to(root / "sub" / "a.txt")
    return root


def _client(router: tuple[str, int], b32: str) -> dict[str, Any]:
    """Every request of the test, from a blocking session (run in a thread)."""
    got: dict[str, Any] = {}
    with sync.create_session(router) as session:

        def connection() -> http.client.HTTPConnection:
            conn = http.client.HTTPConnection(b32, 80, timeout=20)
            conn.sock = session.connect(b32, 80, timeout=20)
            return conn

        conn = connection()  # keep-alive: several requests on one stream
        for path in ("/", "/blob.bin", "/sub/a.txt", "/inside.txt", "/sub/"):
            conn.request("GET", path)
            r = conn.getresponse()
            got[path] = (r.status, r.getheader("Content-Type"), r.read())
        conn.request("HEAD", "/blob.bin")
        r = conn.getresponse()
        got["HEAD"] = (r.status, r.getheader("Content-Length"), r.read())
        for spec in RANGES:
            conn.request("GET", "/blob.bin", headers={"Range": spec})
            r = conn.getresponse()
            got[spec] = (r.status, r.getheader("Content-Range"), r.read())
        conn.close()
        for path in OUTSIDE:
            conn = connection()
            conn.request("GET", path)
            r = conn.getresponse()
            got[path] = (r.status, r.read())
            conn.close()
    return got


async def test_serve_a_folder(router: EmbeddedRouter, tmp_path: Path) -> None:
    root = _site(tmp_path)
    pcap = tmp_path / "serve.pcap"
    proc = await spawn("--pcap", str(pcap), "serve", str(root), router=router.address)
    line = await read_line(proc.stdout)
    assert line.startswith(f"serving {root} at http://") and line.endswith("(port 80)\n"), line
    b32 = line.split("http://")[1].split("/")[0]
    key = b32_address_to_hash(b32)
    await router.wait_until(lambda r: r.find(key) is not None, timeout=20)
    got = await asyncio.to_thread(_client, router.address, b32)
    assert got["/"] == (200, "text/html", b"<h1>hello eepsite</h1>\n")
    assert got["/blob.bin"] == (200, "application/octet-stream", BLOB)
    assert got["/sub/a.txt"] == (200, "text/plain", b"a file in sub\n")
    assert got["/inside.txt"] == (200, "text/plain", b"a file in sub\n")
    status, ctype, listing = got["/sub/"]
    assert status == 200 and str(ctype).startswith("text/html") and b'href="a.txt"' in listing
    assert got["HEAD"] == (200, str(len(BLOB)), b"")
    for spec, expected in RANGES.items():  # all on the same keep-alive stream
        assert got[spec] == expected, spec
    for path in OUTSIDE:
        status, body = got[path]
        assert status == 404, path
        assert b"outside" not in body
    proc.send_signal(signal.SIGINT)
    status, _, err = await finish(proc, timeout=3.0)  # "within 2 s", with slack
    assert status == 130
    assert b"Traceback" not in err
    _, frames = read_pcap(pcap)
    served = b"".join(f.payload for f in frames if f.sport == 80)
    assert served.count(b"HTTP/1.1 200 OK") == 6 + 1
    assert served.count(b"HTTP/1.1 206 Partial Content") == 4
    assert served.count(b"HTTP/1.1 404") == len(OUTSIDE)
    assert BLOB[:1000] in served and BLOB[-1000:] in served


def test_parse_range() -> None:
    assert parse_range("bytes=0-99") == (0, 99)
    assert parse_range("bytes=100-") == (100, None)
    assert parse_range(" bytes = -5 ") == (None, 5)
    for bad in ("", "bytes=", "bytes=-", "bytes=5-1", "items=0-1", "bytes=a-b", "bytes=0-1,3-4"):
        assert parse_range(bad) is None, bad


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "/nonexistent/folder"], b"serve: /nonexistent/folder: not a folder\n"),
        (["serve", ".", "--wsgi", "app:app"], b"serve: give a folder (serve DIR) or an app"),
        (["serve"], b"serve: give a folder (serve DIR) or an app (--wsgi/--asgi MODULE:APP)\n"),
        (["serve", ".", "--port", "0"], b"invalid port '0': must be 1-65535"),
        (["--pcap", "/nonexistent/x.pcap", "serve", "."], b"serve: cannot write /nonexistent/x"),
    ],
)
async def test_serve_argument_errors(args: list[str], message: bytes) -> None:
    proc = await spawn(*args, router=("127.0.0.1", 1))
    status, _, err = await finish(proc)
    assert status == 2
    assert message in err and err.count(b"\n") == 1
