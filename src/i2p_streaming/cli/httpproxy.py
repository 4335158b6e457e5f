"""An HTTP proxy into I2P (``i2p-streaming proxy http``), parsing with h11.

``CONNECT host.i2p:port`` opens a stream and then copies bytes both ways. Any other method
with an absolute ``http://host.i2p[:port]/...`` URI opens a stream to the host (port 80 by
default) and sends the request in origin form (``GET /path?query HTTP/1.1``) with
``Host: host.i2p``, ``Connection: close`` and the hop-by-hop and identifying headers
removed (:data:`STRIPPED`; ``Referer`` kept only when it names the same host; the
``User-Agent`` replaced by :data:`USER_AGENT`, as both I2P routers' proxies do). The
response comes back re-framed by h11 with its own hop-by-hop headers removed.

Connections: one stream per request (the site sees ``Connection: close``), while the
client's connection is kept alive between requests as HTTP/1.1 allows (h11 decides: a
client's ``Connection: close`` or HTTP/1.0 closes it after the response).

Only ``.i2p``/``.b32.i2p`` hosts are served and only over streams; this module opens no TCP
connection. Errors are an HTML page: 400 (not a proxy request, https:// without CONNECT,
bad HTTP), 403 (a host outside I2P), 404 (a name the router does not know), 502 (refused
or reset by the destination), 504 (no answer within the connect timeout, or the lease set
of a ``.b32.i2p`` address not found).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from urllib.parse import urlsplit

import h11

from i2p_streaming.cli.service import (
    LocalProxy,
    log_end,
)
from i2p_streaming.cli.splice import CHUNK, abort, splice
from i2p_streaming.data import is_b32_address
from i2p_streaming.errors import DestinationLookupError

__all__ = ["STRIPPED", "USER_AGENT", "HttpProxy", "ProxyError", "error_page", "upstream_headers"]

log = logging.getLogger("i2p_streaming.cli.httpproxy")

#: Request headers never sent into I2P (hop-by-hop, or naming the user or the proxy).
STRIPPED = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authorization",
        b"proxy-authenticate",
        b"te",
        b"trailer",
        b"upgrade",
        b"via",
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-proto",
        b"x-forwarded-server",
        b"x-real-ip",
        b"from",
        b"host",
        b"user-agent",
        b"expect",
    }
)
#: Response headers not passed back (hop-by-hop; h11 sets the framing itself).
RESPONSE_STRIPPED = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"proxy-authenticate", b"te", b"trailer"}
)
USER_AGENT = b"MYOB/6.66 (AN/ON)"
#: Largest incomplete request or response head h11 buffers (a complete one read in one
#: chunk may be up to CHUNK bytes longer).
MAX_HEAD = 32 * 1024
#: Seconds a kept-alive client connection may wait for its next request.
IDLE_TIMEOUT = 120.0

_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 502: "Bad Gateway"}
_REASONS[504] = "Gateway Timeout"


class ProxyError(Exception):
    """A request answered with an error page: ``status`` and a one-line ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def error_page(status: int, message: str) -> bytes:
    """The HTML body of an error page."""
    title = f"{status} {_REASONS.get(status, 'Error')}"
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title></head>\n'
        f"<body><h1>{title}</h1>\n<p>{html.escape(message)}</p>\n"
        "<p>i2p-streaming HTTP proxy: only .i2p and .b32.i2p sites are reachable.</p>\n"
        "</body></html>\n"
    ).encode()


def _split_target(target: str, default_port: int) -> tuple[str, int]:
    host, sep, port_text = target.rpartition(":")
    if not sep or "]" in port_text:
        return target.lower(), default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ProxyError(400, f"invalid port in {target[:80]!r}")
    return host.lower(), int(port_text)


def _check_host(host: str) -> str:
    if not host.endswith(".i2p"):
        raise ProxyError(403, f"{host[:80]} is not an I2P site: this proxy reaches only .i2p")
    return host


def upstream_headers(
    headers: list[tuple[bytes, bytes]], host: str, port: int
) -> list[tuple[bytes, bytes]]:
    """The request headers sent into I2P: ``headers`` without :data:`STRIPPED` ones and
    without those the ``Connection`` header lists, a ``Referer`` only to the same host,
    then ``Host``, ``User-Agent`` and ``Connection: close``."""
    listed = {
        token.strip().lower()
        for name, value in headers
        if name.lower() in (b"connection", b"proxy-connection")
        for token in value.split(b",")
    }
    out: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        low = name.lower()
        if low in STRIPPED or low in listed:
            continue
        if low == b"referer":
            try:
                same = (urlsplit(value.decode("latin-1")).hostname or "").lower() == host
            except ValueError:
                same = False
            if not same:
                continue
        out.append((name, value))
    authority = host if port == 80 else f"{host}:{port}"
    out.append((b"Host", authority.encode("ascii")))
    out.append((b"User-Agent", USER_AGENT))
    out.append((b"Connection", b"close"))
    return out


async def _next_event(
    conn: h11.Connection, reader: asyncio.StreamReader, timeout: float | None = None
) -> object:
    """The next h11 event, reading (at most one chunk at a time) while h11 needs data."""
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        read = reader.read(CHUNK)
        conn.receive_data(await (read if timeout is None else asyncio.wait_for(read, timeout)))


#: Seconds a closing client connection keeps reading (and dropping) what the client still sends.
LINGER = 2.0


async def _linger_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Close as HTTP servers do (RFC 9112 9.6): end our side, then read and drop what the
    client still sends for at most :data:`LINGER` seconds; a close with unread input would be
    a TCP reset that can destroy the response still in flight (an error page after a
    too-large request head)."""

    async def drop() -> None:
        while await reader.read(CHUNK):
            pass

    with contextlib.suppress(OSError, TimeoutError):
        if writer.can_write_eof():
            writer.write_eof()
        await asyncio.wait_for(drop(), LINGER)
    writer.close()


class HttpProxy(LocalProxy):
    """An HTTP proxy on ``bind`` whose requests become streams of ``session``."""

    kind = "http"

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        """One client connection: its HTTP requests."""
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        try:
            while await self._serve_one(conn, reader, writer, peer):
                conn.start_next_cycle()
        except (OSError, EOFError, TimeoutError, h11.ProtocolError) as exc:
            log.info("http %s: %s", peer, str(exc) or type(exc).__name__)
            abort(writer)
            return
        await _linger_close(reader, writer)

    async def _send(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, event: h11.Event
    ) -> None:
        data = conn.send(event)
        if data:
            writer.write(data)
            await writer.drain()

    async def _error(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, status: int, message: str
    ) -> None:
        body = error_page(status, message)
        headers = [
            (b"Content-Type", b"text/html; charset=utf-8"),
            (b"Content-Length", str(len(body)).encode()),
            (b"Connection", b"close"),
            (b"Cache-Control", b"no-store"),
        ]
        reason = _REASONS.get(status, "Error").encode()
        await self._send(
            conn, writer, h11.Response(status_code=status, headers=headers, reason=reason)
        )
        await self._send(conn, writer, h11.Data(data=body))
        await self._send(conn, writer, h11.EndOfMessage())

    async def _open(
        self, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await self._session.open_connection(
                host, port, timeout=self._timeout, limit=CHUNK
            )
        except DestinationLookupError as exc:
            if is_b32_address(host):
                raise ProxyError(504, f"{host}: destination not reachable ({exc})") from None
            raise ProxyError(404, f"{host}: unknown host, the router has no such name") from None
        except ConnectionRefusedError as exc:
            raise ProxyError(502, f"{host}:{port} refused the connection ({exc})") from None
        except TimeoutError:
            raise ProxyError(504, f"{host}:{port} did not answer in {self._timeout:g} s") from None
        except OSError as exc:
            raise ProxyError(502, f"{host}:{port}: {exc}") from None

    async def _serve_one(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: str,
    ) -> bool:
        """Answer one request; True when the client connection stays open for another."""
        try:
            event = await _next_event(conn, reader, IDLE_TIMEOUT)
        except h11.RemoteProtocolError as exc:
            await self._error(conn, writer, 400, f"bad HTTP request: {exc}")
            return False
        if not isinstance(event, h11.Request):
            return False  # ConnectionClosed: the client is done
        method = event.method.decode("ascii", "replace")
        target = event.target.decode("ascii", "replace")
        what = f"http {peer} {method} {target[:100]}"
        try:
            if method == "CONNECT":
                await self._connect(conn, reader, writer, target, what)
                return False
            status = await self._forward(conn, reader, writer, event, target)
        except ProxyError as exc:
            log.warning("%s: %d %s", what, exc.status, exc)
            if conn.our_state is h11.SEND_RESPONSE:
                await self._error(conn, writer, exc.status, str(exc))
                return False
            raise ConnectionAbortedError(str(exc)) from None
        log.info("%s: %d", what, status)
        return conn.our_state is h11.DONE and conn.their_state is h11.DONE

    async def _connect(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        target: str,
        what: str,
    ) -> None:
        host, port = _split_target(target, 0)
        if port == 0:
            raise ProxyError(400, f"CONNECT needs HOST:PORT, not {target[:80]!r}")
        remote = await self._open(_check_host(host), port)
        try:
            while (event := await _next_event(conn, reader)) is not h11.PAUSED:
                if isinstance(event, h11.ConnectionClosed):
                    abort(remote[1])
                    return
            established = h11.Response(
                status_code=200, reason=b"Connection established", headers=[]
            )
            await self._send(conn, writer, established)
        except BaseException:
            abort(remote[1])
            raise
        leftover, _ = conn.trailing_data
        if leftover:
            remote[1].write(leftover)
        started = asyncio.get_running_loop().time()
        result = await splice((reader, writer), remote)
        log_end(log, what, result, asyncio.get_running_loop().time() - started)

    async def _forward(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        target: str,
    ) -> int:
        try:
            url = urlsplit(target)
            url_host, url_port = url.hostname, url.port
        except ValueError as exc:
            raise ProxyError(400, f"invalid URL {target[:80]!r}: {exc}") from None
        if target.startswith("/") or not url.scheme:
            raise ProxyError(400, "this is a proxy: ask for an absolute http:// URL")
        if url.scheme.lower() != "http":
            raise ProxyError(
                400, f"{url.scheme}:// URLs go through CONNECT, not {request.method.decode()}"
            )
        if not url_host:
            raise ProxyError(400, f"no host in {target[:80]!r}")
        host = _check_host(url_host.lower())
        port = url_port or 80
        remote_reader, remote_writer = await self._open(host, port)
        origin = url.path or "/"
        if url.query:
            origin += "?" + url.query
        up = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        headers = upstream_headers(list(request.headers), host, port)
        try:
            await self._send(
                up,
                remote_writer,
                h11.Request(method=request.method, target=origin.encode(), headers=headers),
            )
            if conn.they_are_waiting_for_100_continue:  # the stream is open: send the body
                await self._send(
                    conn,
                    writer,
                    h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue"),
                )
            while not isinstance(event := await _next_event(conn, reader), h11.EndOfMessage):
                if not isinstance(event, h11.Data):
                    raise ConnectionAbortedError("the client ended inside its request body")
                await self._send(up, remote_writer, event)
            await self._send(up, remote_writer, h11.EndOfMessage())
            return await self._relay_response(up, remote_reader, conn, writer)
        except h11.RemoteProtocolError as exc:
            raise ProxyError(502, f"{host}: bad HTTP response ({exc})") from None
        except OSError as exc:
            raise ProxyError(502, f"{host}: {exc}") from None
        finally:
            if up.their_state is h11.DONE:
                remote_writer.close()
            else:
                abort(remote_writer)

    async def _relay_response(
        self,
        up: h11.Connection,
        remote: asyncio.StreamReader,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
    ) -> int:
        while True:
            event = await _next_event(up, remote)
            if isinstance(event, h11.InformationalResponse):
                continue
            if not isinstance(event, h11.Response):
                raise ProxyError(502, "the site closed without an answer")
            break
        headers = [(n, v) for n, v in event.headers if n.lower() not in RESPONSE_STRIPPED]
        await self._send(
            conn,
            writer,
            h11.Response(status_code=event.status_code, headers=headers, reason=event.reason),
        )
        while not isinstance(part := await _next_event(up, remote), h11.EndOfMessage):
            if not isinstance(part, h11.Data):
                raise ConnectionAbortedError("the site closed inside its response")
            await self._send(conn, writer, part)
        await self._send(conn, writer, h11.EndOfMessage())
        return event.status_code
