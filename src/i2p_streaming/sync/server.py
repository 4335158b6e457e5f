"""Serve ``socketserver``/``http.server`` request handlers over a :class:`Listener`.

``RequestServer(listener, MyHTTPHandler).serve_forever()`` (or ``serve(listener,
MyHTTPHandler)`` in a thread of its own) runs one thread per accepted stream; handlers get a
:class:`~i2p_streaming.sync.socket.StreamSocket` as ``request`` and ``(peer b32, peer port)``
as ``client_address``, exactly as a ``socketserver.TCPServer`` would give them a socket and
an ``(ip, port)``. ``wsgiref.simple_server.WSGIRequestHandler``
works too: the server has wsgiref's ``base_environ``, ``get_app`` and ``set_app``.
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
    listener. ``server_address``/``server_name``/``server_port`` describe our end.

    ``max_threads`` bounds the handler threads: at the bound, no stream is accepted until a
    handler ends (new streams wait in the listener's backlog). ``app`` is the WSGI
    application a ``wsgiref`` handler runs (``get_app``/``set_app``)."""

    #: Handlers (e.g. ``StreamRequestHandler.timeout``) may read these like socketserver's.
    timeout: float | None = None
    daemon_threads = True

    def __init__(
        self,
        listener: Listener,
        handler_class: Any,
        *,
        max_threads: int | None = None,
        app: Any = None,
    ) -> None:
        if max_threads is not None and max_threads < 1:
            raise ValueError(f"max_threads must be at least 1, not {max_threads!r}")
        self.listener = listener
        self.RequestHandlerClass = handler_class
        self.server_address = listener.getsockname()
        self.server_name, self.server_port = self.server_address
        self.max_threads = max_threads
        self._slots = None if max_threads is None else threading.BoundedSemaphore(max_threads)
        self.application = app
        self.base_environ: dict[str, str] = {}
        self.setup_environ()
        self._shutdown = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()
        self._threads: set[threading.Thread] = set()

    # ------------------------------------------------------------------ wsgiref's server API
    def setup_environ(self) -> None:
        """Fill :attr:`base_environ` as ``wsgiref.simple_server.WSGIServer`` does (our b32 is
        the server name)."""
        self.base_environ = {
            "SERVER_NAME": self.server_name,
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PORT": str(self.server_port),
            "REMOTE_HOST": "",
            "CONTENT_LENGTH": "",
            "SCRIPT_NAME": "",
        }

    def get_app(self) -> Any:
        """The WSGI application ``wsgiref`` handlers run."""
        return self.application

    def set_app(self, application: Any) -> None:
        self.application = application

    # ------------------------------------------------------------------ serving
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
        False when none came in time (or every handler thread is busy)."""
        if self._slots is not None and not self._slots.acquire(timeout=timeout):
            return False
        try:
            sock, address = self.listener.accept(timeout)
        except TimeoutError:
            self._release_slot()
            return False
        except BaseException:
            self._release_slot()
            raise
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
            self._release_slot()

    def _release_slot(self) -> None:
        if self._slots is not None:
            self._slots.release()

    def finish_request(self, request: StreamSocket, client_address: tuple[str, int]) -> None:
        self.RequestHandlerClass(request, client_address, self)

    def shutdown_request(self, request: StreamSocket) -> None:
        with contextlib.suppress(OSError):
            request.shutdown(_socket.SHUT_WR)
        request.close()

    def handle_error(self, request: StreamSocket, client_address: tuple[str, int]) -> None:
        log.exception("handler for %s port %d failed", *client_address)

    @property
    def active_threads(self) -> int:
        """Handler threads running now."""
        return len(self._threads)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until :meth:`serve_forever` has returned; False on timeout."""
        return self._stopped.wait(timeout)

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


def serve(
    listener: Listener,
    handler_class: Any,
    *,
    max_threads: int | None = None,
    app: Any = None,
) -> RequestServer:
    """Start a :class:`RequestServer` for ``handler_class`` on ``listener`` in a daemon
    thread and return it (stop with ``server.shutdown(); server.server_close()``).
    ``max_threads`` and ``app`` as for :class:`RequestServer`."""
    server = RequestServer(listener, handler_class, max_threads=max_threads, app=app)
    started = threading.Event()

    def run() -> None:
        server._stopped.clear()
        started.set()
        server.serve_forever(poll_interval=0.2)

    threading.Thread(target=run, name="i2p-streaming-serve", daemon=True).start()
    started.wait()
    return server
