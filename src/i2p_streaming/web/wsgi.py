"""Serve a WSGI application (Flask, Django, Bottle…) as an eepsite on the blocking API.

Requests are parsed by the standard library's ``wsgiref`` (its request handler and
``ServerHandler``), one handler thread per stream up to ``max_threads``. ``REMOTE_ADDR`` is
the client's b32 address, ``SERVER_NAME`` ours; ``HTTP_X_I2P_DESTHASH``,
``HTTP_X_I2P_DESTB64`` and ``HTTP_X_I2P_DESTB32`` are set from the stream's peer after any
client-sent copies were removed. No extra is needed.
"""

from __future__ import annotations

import logging
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler

from i2p_streaming.sync import Listener, RequestServer, SyncSession, serve
from i2p_streaming.web.headers import set_wsgi_environ
from i2p_streaming.web.options import warn_if_slow

__all__ = ["DEFAULT_MAX_THREADS", "I2PWSGIRequestHandler", "serve_wsgi"]

log = logging.getLogger("i2p_streaming.web")

#: Handler threads (so concurrent requests) of one WSGI server unless told otherwise.
DEFAULT_MAX_THREADS = 64


class I2PWSGIRequestHandler(WSGIRequestHandler):
    """wsgiref's handler with the I2P headers set from the stream's peer, and its access
    log on the ``i2p_streaming.web`` logger instead of stderr."""

    def get_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environ()
        set_wsgi_environ(environ, self.request.get_extra_info("peer_destination"))
        return environ

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


def serve_wsgi(
    app: Any,
    session_or_listener: SyncSession | Listener,
    port: int = 80,
    *,
    max_threads: int = DEFAULT_MAX_THREADS,
    handler_class: type[WSGIRequestHandler] = I2PWSGIRequestHandler,
) -> RequestServer:
    """Serve the WSGI ``app`` on a blocking session's ``port`` (or on a listener, ``port``
    then unused) in a background thread, and return the running
    :class:`~i2p_streaming.sync.RequestServer`: ``server.wait()`` blocks until it stops,
    ``server.shutdown(); server.server_close()`` stops it (and closes the listener)."""
    if isinstance(session_or_listener, SyncSession):
        listener = session_or_listener.listen(port)
        warn_if_slow(session_or_listener.aio.options, f"WSGI server on port {port}")
    else:
        listener = session_or_listener
    return serve(listener, handler_class, max_threads=max_threads, app=app)
