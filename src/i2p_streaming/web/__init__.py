"""Web programs over I2P: serve ASGI/WSGI/aiohttp apps as eepsites, fetch with httpx/aiohttp.

Each framework lives in its own module and needs its extra; the names below are imported on
first use, so ``import i2p_streaming.web`` needs none of them:

- :func:`serve_asgi`, :class:`ASGIServer` (``[asgi]``: uvicorn) — FastAPI, Starlette, Quart…
- :func:`serve_wsgi` (no extra: wsgiref) — Flask, Django…
- :func:`serve_aiohttp`, :class:`AiohttpServer`, :class:`I2PConnector` (``[aiohttp]``)
- :class:`I2PTransport`, :class:`AsyncI2PTransport` (``[httpx]``)

Servers add ``X-I2P-DestHash``/``X-I2P-DestB64``/``X-I2P-DestB32`` to every request, after
removing any the client sent (:mod:`i2p_streaming.web.headers`). Clients refuse non-I2P hosts
with :class:`NonI2PHostError` before connecting anything, unless given a fallback.

HTTP wants each write sent at once: create a server's session with
``options=web_stream_options()`` (:mod:`i2p_streaming.web.options`; the clients use it for
the streams they open).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from i2p_streaming.web.headers import DEST_B32, DEST_B64, DEST_HASH, I2P_HEADERS
from i2p_streaming.web.names import NonI2PHostError, is_i2p_host
from i2p_streaming.web.options import web_stream_options

if TYPE_CHECKING:
    from i2p_streaming.web.aiohttp_client import I2PConnector
    from i2p_streaming.web.aiohttp_server import AiohttpServer, serve_aiohttp
    from i2p_streaming.web.asgi import ASGIServer, serve_asgi
    from i2p_streaming.web.httpx_transport import AsyncI2PTransport, I2PTransport
    from i2p_streaming.web.wsgi import serve_wsgi

__all__ = [
    "DEST_B32",
    "DEST_B64",
    "DEST_HASH",
    "I2P_HEADERS",
    "ASGIServer",
    "AiohttpServer",
    "AsyncI2PTransport",
    "I2PConnector",
    "I2PTransport",
    "NonI2PHostError",
    "is_i2p_host",
    "serve_aiohttp",
    "serve_asgi",
    "serve_wsgi",
    "web_stream_options",
]

_LAZY = {
    "ASGIServer": "asgi",
    "serve_asgi": "asgi",
    "serve_wsgi": "wsgi",
    "AiohttpServer": "aiohttp_server",
    "serve_aiohttp": "aiohttp_server",
    "I2PConnector": "aiohttp_client",
    "I2PTransport": "httpx_transport",
    "AsyncI2PTransport": "httpx_transport",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
