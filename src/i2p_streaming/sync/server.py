"""Serve ``socketserver``/``http.server`` request handlers over a :class:`Listener`.

``RequestServer(listener, MyHTTPHandler).serve_forever()`` (or ``serve(listener,
MyHTTPHandler)`` in a thread of its own) runs one thread per accepted stream; handlers get a
:class:`~i2p_streaming.sync.socket.StreamSocket` as ``request`` and ``(peer b32, peer port)``
as ``client_address``, exactly as a ``socketserver.TCPServer`` would give them a socket and
an ``(ip, port)``.
"""

from __future__ import annotations

import contextlib
import logging
import socket as _socket
import threading
from types import TracebackType
from typing import Any, Self

from i2p_streaming.sync.session import Listener
from i2p_streaming.sync.socket import StreamSocket

__all__ = ["RequestServer", "serve"]

log = logging.getLogger("i2p_streaming.sync")


class RequestServer:
    """The parts of ``socketserver.ThreadingTCPServer`` handlers use, over a listener.

    ``RequestHandlerClass(request, client_address, server)`` runs in a daemon thread per
    stream; the stream is half-closed and closed after the handler returns. ``serve_forever``
    returns after :meth:`shutdown` (from another thread); ``server_close`` closes the
    listener. ``server_address``/``server_name``/``server_port`` describe our end."""

    #: Handlers (e.g. ``StreamRequestHandler.timeout``) may read these like socketserver's.
    timeout: float | None = None
    daemon_threads = True

    def __init__(self, listener: Listener, handler_class: Any) -> None:
        self.listener = listener
        self.RequestHandlerClass = handler_class
        self.server_address = listener.getsockname()
        self.server_name, self.server_port = self.server_address
        self._shutdown = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()
        self._threads: set[threading.Thread] = set()

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Accept and handle streams until :meth:`shutdown` (checked every
        ``poll_interval`` s) or until the listener is closed."""
        self._shutdown.clear()
        self._stopped.clear()
        try:
            while not self._shutdown.is_set():
                try:
                    self.handle_request(poll_interval)
                except OSError:
                    if self._shutdown.is_set() or self.listener._closed:
                        break
                    raise
        finally:
            self._stopped.set()

    def handle_request(self, timeout: float | None = None) -> bool:
        """Accept one stream (waiting up to ``timeout``) and start its handler thread;
        False when none came in time."""
        try:
            sock, address = self.listener.accept(timeout)
        except TimeoutError:
            return False
        thread = threading.Thread(
            target=self._handle, args=(sock, address), name="i2p-streaming-handler", daemon=True
        )
        self._threads.add(thread)
        thread.start()
        return True

    def _handle(self, sock: StreamSocket, address: tuple[str, int]) -> None:
        try:
            self.finish_request(sock, address)
        except Exception:
            self.handle_error(sock, address)
        finally:
            self.shutdown_request(sock)
            self._threads.discard(threading.current_thread())

    def finish_request(self, request: StreamSocket, client_address: tuple[str, int]) -> None:
        self.RequestHandlerClass(request, client_address, self)

    def shutdown_request(self, request: StreamSocket) -> None:
        with contextlib.suppress(OSError):
            request.shutdown(_socket.SHUT_WR)
        request.close()

    def handle_error(self, request: StreamSocket, client_address: tuple[str, int]) -> None:
        log.exception("handler for %s port %d failed", *client_address)

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` and wait for it (call from another thread)."""
        self._shutdown.set()
        self._stopped.wait()

    def server_close(self) -> None:
        """Close the listener; running handlers finish on their own."""
        self.listener.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server_close()


def serve(listener: Listener, handler_class: Any) -> RequestServer:
    """Start a :class:`RequestServer` for ``handler_class`` on ``listener`` in a daemon
    thread and return it (stop with ``server.shutdown(); server.server_close()``)."""
    server = RequestServer(listener, handler_class)
    started = threading.Event()

    def run() -> None:
        server._stopped.clear()
        started.set()
        server.serve_forever(poll_interval=0.2)

    threading.Thread(target=run, name="i2p-streaming-serve", daemon=True).start()
    started.wait()
    return server
