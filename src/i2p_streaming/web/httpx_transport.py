"""httpx transports over I2P streams: ``httpx.Client(transport=I2PTransport(session))``.

Both are built on httpcore's network-backend interface: httpcore's own connection pool,
HTTP/1.1 keep-alive, timeouts and streaming bodies run over :class:`I2PNetworkBackend`
(blocking, on a :class:`~i2p_streaming.sync.SyncSession`) or
:class:`AsyncI2PNetworkBackend` (asyncio, on a :class:`~i2p_streaming.aio.Session`), which
open streams instead of sockets. Host names (``NAME.i2p``) are resolved by the router,
``….b32.i2p`` addresses directly. Other hosts raise :class:`NonI2PHostError` before any
connection is attempted, unless a ``fallback`` transport is given for them. HTTPS over I2P
is not supported (the stream is already end-to-end encrypted).

Needs the ``[httpx]`` extra.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from i2p_streaming.aio import Session, StreamTransport
from i2p_streaming.errors import DestinationLookupError
from i2p_streaming.streaming import StreamOptions
from i2p_streaming.sync import StreamSocket, SyncSession
from i2p_streaming.web.names import NonI2PHostError, check_i2p_host, is_i2p_host, missing_extra
from i2p_streaming.web.options import web_stream_options

try:
    import httpcore
    import httpx
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(missing_extra("i2p_streaming.web.httpx_transport", "httpx", "httpx")) from exc

__all__ = [
    "AsyncI2PNetworkBackend",
    "AsyncI2PTransport",
    "I2PNetworkBackend",
    "I2PTransport",
]

#: Bytes an async stream keeps unread before it pauses the stream (the peer is then choked).
READ_LIMIT = 256 * 1024

# most specific first: the first match wins
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.RequestError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


@contextlib.contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    """Raise httpcore's exceptions as httpx's (the same ones httpx's own transports raise)."""
    try:
        yield
    except Exception as exc:
        for core, mapped in _EXCEPTIONS:
            if isinstance(exc, core):
                raise mapped(str(exc) or type(exc).__name__, request=request) from exc
        raise


def _core_request(request: httpx.Request) -> httpcore.Request:
    url = request.url
    return httpcore.Request(
        method=request.method,
        url=httpcore.URL(
            scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
        ),
        headers=request.headers.raw,
        content=request.stream,
        extensions=request.extensions,
    )


def _no_tls() -> httpcore.ConnectError:
    return httpcore.ConnectError(
        "https over I2P is not supported: use http:// (streams are end-to-end encrypted)"
    )


def _connect_error(host: str, port: int, exc: BaseException) -> httpcore.ConnectError:
    return httpcore.ConnectError(f"cannot open a stream to {host} port {port}: {exc}")


# ---------------------------------------------------------------------- blocking
class _SyncStream(httpcore.NetworkStream):
    def __init__(self, sock: StreamSocket) -> None:
        self._sock = sock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._sock.settimeout(timeout)
        try:
            return self._sock.recv(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        self._sock.settimeout(timeout)
        try:
            self._sock.sendall(buffer)
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    def close(self) -> None:
        self._sock.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        raise _no_tls()

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # an idle keep-alive stream the server ended
            return self._sock.recv_ready()
        return self._sock.get_extra_info(info)


class I2PNetworkBackend(httpcore.NetworkBackend):
    """httpcore network backend opening streams on a blocking session (I2P hosts only),
    with ``stream_options`` (default: :func:`web_stream_options` of the session's)."""

    def __init__(self, session: SyncSession, stream_options: StreamOptions | None = None) -> None:
        self._session = session
        self._options = stream_options or web_stream_options(session.aio.options)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Open a stream to ``host``:``port`` (looked up by the router unless a b32)."""
        name = check_i2p_host(host)
        try:
            sock = self._session.connect(name, port, timeout=timeout, options=self._options)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"connect to {name} port {port}: {exc}") from exc
        except (OSError, DestinationLookupError) as exc:
            raise _connect_error(name, port, exc) from exc
        return _SyncStream(sock)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not I2P hosts")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes], request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors(self._request):
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


def _pool_settings(limits: httpx.Limits | None, retries: int) -> dict[str, Any]:
    """httpcore pool arguments from httpx ``limits`` (httpx's defaults when None): HTTP/1.1
    only, ``retries`` connect attempts."""
    limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
    return {
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
        "http1": True,
        "http2": False,
        "retries": retries,
    }


class I2PTransport(httpx.BaseTransport):
    """An httpx transport sending ``http://NAME.i2p/`` and ``http://….b32.i2p/`` requests
    over ``session``; other hosts go to ``fallback`` or raise :class:`NonI2PHostError`.

    ``limits`` (:class:`httpx.Limits`) and ``retries`` (connect attempts) as for
    :class:`httpx.HTTPTransport`; ``stream_options`` for the streams it opens (default:
    :func:`~i2p_streaming.web.web_stream_options` of the session's)."""

    def __init__(
        self,
        session: SyncSession,
        *,
        fallback: httpx.BaseTransport | None = None,
        limits: httpx.Limits | None = None,
        retries: int = 0,
        stream_options: StreamOptions | None = None,
    ) -> None:
        self._fallback = fallback
        self._pool = httpcore.ConnectionPool(
            **_pool_settings(limits, retries),
            network_backend=I2PNetworkBackend(session, stream_options),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` (raises :class:`NonI2PHostError` for a non-I2P host without a
        fallback, httpx's exceptions otherwise)."""
        if not is_i2p_host(request.url.host):
            if self._fallback is None:
                raise NonI2PHostError(request.url.host)
            return self._fallback.handle_request(request)
        with _httpx_errors(request):
            resp = self._pool.handle_request(_core_request(request))
        assert isinstance(resp.stream, Iterable)
        return httpx.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=_SyncBody(resp.stream, request),
            extensions=resp.extensions,
        )

    def close(self) -> None:
        """Close the pooled streams (and the fallback)."""
        self._pool.close()
        if self._fallback is not None:
            self._fallback.close()


# ---------------------------------------------------------------------- asyncio
class _AsyncProtocol(asyncio.Protocol):
    """Reading side of an async stream: a bounded buffer, the end of input, the loss."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.eof = False
        self.lost = False
        self.error: Exception | None = None
        self.transport: StreamTransport | None = None
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, StreamTransport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._readable.set()
        if len(self.buffer) > READ_LIMIT and self.transport is not None and not self._paused:
            self._paused = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self.eof = True
        self._readable.set()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.error = exc
        self._readable.set()
        self._writable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def ready(self) -> bool:
        return bool(self.buffer) or self.eof or self.lost

    async def read(self, max_bytes: int, timeout: float | None) -> bytes:
        if not self.ready():
            self._readable.clear()
            try:
                await asyncio.wait_for(self._readable.wait(), timeout)
            except TimeoutError as exc:
                raise httpcore.ReadTimeout(f"no data within {timeout:g} s") from exc
        if not self.buffer:
            if self.lost and self.error is not None and not self.eof:
                raise httpcore.ReadError(str(self.error) or "stream reset")
            return b""
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self._paused and len(self.buffer) <= READ_LIMIT // 2 and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def drain(self, timeout: float | None) -> None:
        if self._writable.is_set():
            return
        try:
            await asyncio.wait_for(self._writable.wait(), timeout)
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(f"could not write within {timeout:g} s") from exc


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: StreamTransport, protocol: _AsyncProtocol) -> None:
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._protocol.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            self._transport.write(buffer)
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc
        await self._protocol.drain(timeout)

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise _no_tls()

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # an idle keep-alive stream the server ended
            return self._protocol.ready()
        return self._transport.get_extra_info(info)


class AsyncI2PNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore async network backend opening streams on an asyncio session (I2P hosts
    only; use it on the session's event loop), with ``stream_options`` (default:
    :func:`web_stream_options` of the session's)."""

    def __init__(self, session: Session, stream_options: StreamOptions | None = None) -> None:
        self._session = session
        self._options = stream_options or web_stream_options(session.options)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Open a stream to ``host``:``port`` (looked up by the router unless a b32)."""
        name = check_i2p_host(host)
        try:
            transport, protocol = await self._session.create_connection(
                _AsyncProtocol, name, port, timeout=timeout, options=self._options
            )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"connect to {name} port {port}: {exc}") from exc
        except (OSError, DestinationLookupError) as exc:
            raise _connect_error(name, port, exc) from exc
        assert isinstance(protocol, _AsyncProtocol)
        return _AsyncStream(transport, protocol)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not I2P hosts")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, stream: Any, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors(self._request):
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        aclose = getattr(self._stream, "aclose", None)
        if aclose is not None:
            await aclose()


class AsyncI2PTransport(httpx.AsyncBaseTransport):
    """The asyncio :class:`I2PTransport`: ``httpx.AsyncClient(transport=
    AsyncI2PTransport(session))`` on the session's event loop."""

    def __init__(
        self,
        session: Session,
        *,
        fallback: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
        retries: int = 0,
        stream_options: StreamOptions | None = None,
    ) -> None:
        self._fallback = fallback
        self._pool = httpcore.AsyncConnectionPool(
            **_pool_settings(limits, retries),
            network_backend=AsyncI2PNetworkBackend(session, stream_options),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` (raises :class:`NonI2PHostError` for a non-I2P host without a
        fallback, httpx's exceptions otherwise)."""
        if not is_i2p_host(request.url.host):
            if self._fallback is None:
                raise NonI2PHostError(request.url.host)
            return await self._fallback.handle_async_request(request)
        with _httpx_errors(request):
            resp = await self._pool.handle_async_request(_core_request(request))
        return httpx.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=_AsyncBody(resp.stream, request),
            extensions=resp.extensions,
        )

    async def aclose(self) -> None:
        """Close the pooled streams (and the fallback)."""
        await self._pool.aclose()
        if self._fallback is not None:
            await self._fallback.aclose()
