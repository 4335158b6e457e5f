"""An aiohttp connector over I2P streams:
``aiohttp.ClientSession(connector=I2PConnector(session))`` fetches ``http://NAME.i2p/`` and
``http://….b32.i2p/`` pages; names are resolved by the router.

aiohttp's connection pool, keep-alive and limits work as with its TCP connector; each new
connection is a stream of ``session`` (an :class:`~i2p_streaming.aio.Session` on the same
event loop). Other hosts raise :class:`NonI2PHostError` before any connection is made, unless
a ``fallback`` connector (e.g. ``aiohttp.TCPConnector()``) is given for them.

Needs the ``[aiohttp]`` extra.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from i2p_streaming.aio import Session
from i2p_streaming.errors import DestinationLookupError
from i2p_streaming.streaming import StreamOptions
from i2p_streaming.web.names import NonI2PHostError, is_i2p_host, missing_extra
from i2p_streaming.web.options import web_stream_options

try:
    import aiohttp
    import aiohttp.connector
    from aiohttp.client_proto import ResponseHandler
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        missing_extra("i2p_streaming.web.aiohttp_client", "aiohttp", "aiohttp")
    ) from exc

__all__ = ["I2PConnector"]


class I2PConnector(aiohttp.BaseConnector):
    """Opens aiohttp's connections as streams of ``session`` (see module doc).

    ``fallback``: a connector for non-I2P hosts (closed with this one); without it they
    raise :class:`NonI2PHostError`. ``stream_options``: for the streams it opens (default:
    :func:`~i2p_streaming.web.web_stream_options` of the session's). Other keyword
    arguments (``limit``, ``limit_per_host``, ``keepalive_timeout``, ``force_close`` …) go
    to :class:`aiohttp.BaseConnector`."""

    def __init__(
        self,
        session: Session,
        *,
        fallback: aiohttp.BaseConnector | None = None,
        stream_options: StreamOptions | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._i2p = session
        self._fallback = fallback
        self._options = stream_options or web_stream_options(session.options)

    async def connect(
        self, req: aiohttp.ClientRequest, traces: list[Any], timeout: aiohttp.ClientTimeout
    ) -> aiohttp.connector.Connection:
        """A pooled or new connection for ``req`` (non-I2P hosts: the fallback's, or
        :class:`NonI2PHostError`)."""
        host = req.url.host or ""
        if not is_i2p_host(host):
            if self._fallback is None:
                raise NonI2PHostError(host)
            return await self._fallback.connect(req, traces, timeout)
        if req.is_ssl():
            raise aiohttp.ClientConnectionError(
                "https over I2P is not supported: use http:// (streams are end-to-end encrypted)"
            )
        return await super().connect(req, traces, timeout)

    async def _create_connection(
        self, req: aiohttp.ClientRequest, traces: list[Any], timeout: aiohttp.ClientTimeout
    ) -> ResponseHandler:
        host = (req.url.host or "").rstrip(".").lower()
        port = req.url.port or 80
        loop = self._loop
        limit = timeout.sock_connect or timeout.connect or timeout.total
        try:
            _, protocol = await self._i2p.create_connection(
                lambda: ResponseHandler(loop=loop), host, port, timeout=limit, options=self._options
            )
        except TimeoutError:
            raise
        except (OSError, DestinationLookupError) as exc:
            raise aiohttp.ClientConnectionError(
                f"cannot open a stream to {host} port {port}: {exc}"
            ) from exc
        assert isinstance(protocol, ResponseHandler)
        return protocol

    def close(self, *, abort_ssl: bool = False) -> Awaitable[None]:
        """Close the pooled streams (and the fallback connector)."""
        closing = super().close(abort_ssl=abort_ssl)
        fallback = self._fallback

        async def close_both() -> None:
            await closing
            if fallback is not None:
                await fallback.close()

        return close_both()
