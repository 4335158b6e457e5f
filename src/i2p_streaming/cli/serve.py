"""``i2p-streaming serve DIR [--port 80] [--keys FILE]``: a static eepsite from a folder.

(``serve --wsgi/--asgi MODULE:APP`` serves an application instead: :mod:`.serveapp`.)

The HTTP side is the standard library's ``http.server.SimpleHTTPRequestHandler`` (HTTP/1.1
with keep-alive, HEAD, Content-Type by extension, directory index or listing; one byte
range per request, answered 206), each stream handled in its own thread over a blocking
:class:`~i2p_streaming.sync.socket.StreamSocket` while the session runs on the command's
event loop, whose session has :func:`~i2p_streaming.web.web_stream_options` (each buffered
response sent at once). Paths are confined to DIR: ``..`` never
leaves it (the handler drops such parts) and a symbolic link that resolves outside DIR is
answered 404. Prints ``serving DIR at http://B32/ (port PORT)`` on stdout once it accepts.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import http
import http.server
import logging
import os
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO

from i2p_streaming.cli.common import (
    CommandError,
    add_keys_option,
    command_session,
    port_arg,
    run_command,
)
from i2p_streaming.cli.serveapp import serve_app
from i2p_streaming.sync.socket import StreamSocket, SyncProtocol
from i2p_streaming.web import web_stream_options

__all__ = ["SiteHandler", "parse_range", "register"]

log = logging.getLogger("i2p_streaming.cli")

#: Streams served at once; more are reset (each has its own thread).
MAX_HANDLERS = 64
#: Seconds an idle keep-alive stream stays open.
IDLE_TIMEOUT = 30.0


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand."""
    p = subparsers.add_parser(
        "serve",
        help="an eepsite: the files of DIR, or a WSGI/ASGI app, over HTTP on an I2P port",
        description="Serve DIR over HTTP/1.1 (GET, HEAD, keep-alive, index.html or a listing), "
        "or the WSGI or ASGI application MODULE:APP (imported from the current folder), on "
        "PORT of a destination and print its http://B32/ address. --keys FILE gives a "
        "stable address.",
    )
    p.add_argument("dir", metavar="DIR", nargs="?", default=None, help="the folder to serve")
    p.add_argument("--port", type=port_arg, default=80, help="I2P port (80)")
    add_keys_option(p)
    apps = p.add_mutually_exclusive_group()
    apps.add_argument(
        "--wsgi", default=None, metavar="MODULE:APP", help="serve a WSGI app (Flask, Django)"
    )
    apps.add_argument(
        "--asgi",
        default=None,
        metavar="MODULE:APP",
        help="serve an ASGI app (FastAPI, Starlette; needs the [asgi] extra)",
    )
    p.set_defaults(run=run_serve)


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """``SimpleHTTPRequestHandler`` confined to its directory, logging through ``logging``."""

    protocol_version = "HTTP/1.1"
    server_version = "i2p-streaming-serve"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    #: Buffer each response and write it at the end of the request (``handle_one_request``
    #: flushes): headers and a small body share packets, and a response waits for the
    #: streaming layer's passive flush (bulk profile) once, not once per write.
    wbufsize = 64 * 1024

    def send_head(self) -> Any:
        """``SimpleHTTPRequestHandler.send_head``, but 404 for a path that resolves (through
        a symbolic link) outside the folder, and one byte range (``Range: bytes=...``) of a
        file answered 206 (416 when it starts past the end)."""
        root = os.path.realpath(self.directory)
        local = self.translate_path(self.path)
        real = os.path.realpath(local)
        if real != root and not real.startswith(root + os.sep):
            self.send_error(http.HTTPStatus.NOT_FOUND, "File not found")
            return None
        wanted = parse_range(self.headers.get("Range", ""))
        if wanted is None or not os.path.isfile(local):
            return super().send_head()
        try:
            f = open(local, "rb")  # noqa: SIM115 - closed by do_GET/do_HEAD (or below)
        except OSError:
            self.send_error(http.HTTPStatus.NOT_FOUND, "File not found")
            return None
        size = os.fstat(f.fileno()).st_size
        first, last = wanted
        if first is None:  # the last N bytes
            first, last = max(0, size - (last or 0)), size - 1
        last = size - 1 if last is None else min(last, size - 1)
        if first >= size or (last - first + 1) <= 0:
            f.close()
            self.send_response(http.HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        self.send_response(http.HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(local))
        self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(last - first + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        f.seek(first)
        return _Slice(f, last - first + 1)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.client_address[0][:16], format % args)


def parse_range(header: str) -> tuple[int | None, int | None] | None:
    """``(first, last)`` of a single ``bytes=FIRST-LAST`` range (``last`` None: to the end;
    ``first`` None: ``last`` is a suffix length), or None for no range, a malformed one or
    several (then the whole file is sent, as HTTP allows)."""
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = (part.strip() for part in spec.strip().partition("-"))
    if not dash or not (first or last) or not all(x.isdigit() for x in (first, last) if x):
        return None
    if not first:
        return None, int(last)
    start, end = int(first), int(last) if last else None
    if end is not None and end < start:
        return None
    return start, end


class _Slice:
    """At most ``size`` bytes of an open file, from where it stands (a range's body)."""

    def __init__(self, f: BinaryIO, size: int) -> None:
        self._f = f
        self._left = size

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._f.read(n) if n > 0 else b""
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._f.close()


def _handle(sock: StreamSocket, handler: Any, done: threading.BoundedSemaphore) -> None:
    try:
        handler(sock, sock.getpeername(), SimpleNamespace(server_name="i2p", server_port=0))
    except (ConnectionError, TimeoutError, OSError) as exc:
        log.debug("stream from %s: %s", sock.getpeername()[0][:16], exc)
    except Exception:
        log.exception("serving a stream failed")
    finally:
        sock.close()
        done.release()


async def _serve(args: argparse.Namespace) -> int:
    if (args.dir is None) == (args.wsgi is None and args.asgi is None):
        raise CommandError("give a folder (serve DIR) or an app (--wsgi/--asgi MODULE:APP)", 2)
    if args.dir is None:
        return await serve_app(args)
    root = Path(args.dir)
    if not root.is_dir():
        raise CommandError(f"{args.dir}: not a folder", 2)
    handler = functools.partial(SiteHandler, directory=str(root.resolve()))
    slots = threading.BoundedSemaphore(MAX_HANDLERS)
    loop = asyncio.get_running_loop()

    def made(protocol: SyncProtocol) -> None:
        assert protocol.transport is not None
        if not slots.acquire(blocking=False):
            protocol.transport.abort()
            return
        sock = StreamSocket(loop, protocol, None)
        threading.Thread(
            target=_handle, args=(sock, handler, slots), name="serve", daemon=True
        ).start()

    async with command_session(args, stream_options=web_stream_options()) as session:
        server = await session.create_server(lambda: SyncProtocol(on_made=made), args.port)
        print(f"serving {root} at http://{session.b32}/ (port {args.port})", flush=True)
        try:
            await asyncio.Event().wait()  # until Ctrl-C or SIGTERM
        finally:
            server.close()
    return 0  # pragma: no cover - only a signal ends it


def run_serve(args: argparse.Namespace) -> int:
    """Run ``serve`` (a folder, or an app: :func:`~i2p_streaming.cli.serveapp.serve_app`)
    until Ctrl-C (exit 130); 2 for bad arguments or an unusable router."""
    return run_command("serve", lambda: _serve(args))
