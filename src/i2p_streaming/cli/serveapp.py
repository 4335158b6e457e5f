"""``serve --wsgi MODULE:APP`` and ``serve --asgi MODULE:APP``: a Python web app as an eepsite.

The application is imported as uvicorn does (``package.module:attribute``, the attribute
may be dotted; the current folder is on ``sys.path``) before any network, then served with
:func:`i2p_streaming.web.serve_wsgi` (wsgiref, a thread per stream) or
:class:`i2p_streaming.web.ASGIServer` (uvicorn's protocols, lifespan events) on ``--port``
of a session created with :func:`~i2p_streaming.web.web_stream_options` (each response sent
at once). Prints ``serving MODULE:APP (WSGI|ASGI) at http://B32/ (port PORT)``. Ctrl-C stops
accepting, gives requests in flight :data:`GRACE` seconds and closes the session.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from typing import Any

from i2p_streaming.cli.common import CommandError, command_session
from i2p_streaming.sync import RequestServer, SyncSession
from i2p_streaming.web import web_stream_options

__all__ = ["GRACE", "import_app", "serve_app"]

#: Seconds requests in flight may take to finish after Ctrl-C (then their streams close).
GRACE = 1.0
CLOSE_TIMEOUT = 0.5


def import_app(spec: str, option: str) -> Any:
    """The object ``spec`` (``MODULE:ATTRIBUTE``) names, imported with the current folder on
    ``sys.path``; :class:`CommandError` (exit 2, one line naming ``option``) when the form is
    wrong, the module or attribute is missing or the object is not callable."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise CommandError(f"{option} {spec!r}: expected MODULE:APP, e.g. {option} myapp:app", 2)
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise CommandError(f"{option} {spec}: cannot import {module_name}: {exc}", 2) from None
    except Exception as exc:
        reason = f"importing {module_name} failed: {type(exc).__name__}: {exc}"
        raise CommandError(f"{option} {spec}: {reason}", 2) from None
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            message = f"{option} {spec}: {module_name} has no attribute {attribute!r}"
            raise CommandError(message, 2) from None
    if not callable(obj):
        raise CommandError(f"{option} {spec}: {type(obj).__name__} is not an application", 2)
    return obj


def _asgi_server() -> Any:
    """:class:`i2p_streaming.web.ASGIServer`, or CommandError naming the missing extra."""
    try:
        from i2p_streaming.web.asgi import ASGIServer
    except ImportError as exc:
        raise CommandError(f"--asgi: {exc}", 2) from None
    return ASGIServer


async def serve_app(args: argparse.Namespace) -> int:
    """Serve ``args.wsgi`` or ``args.asgi`` until cancelled (Ctrl-C: exit 130)."""
    kind, spec = ("WSGI", args.wsgi) if args.wsgi is not None else ("ASGI", args.asgi)
    app = import_app(spec, f"--{kind.lower()}")
    server_class = _asgi_server() if kind == "ASGI" else None
    options = web_stream_options()
    async with command_session(
        args, stream_options=options, close_timeout=CLOSE_TIMEOUT
    ) as session:
        line = f"serving {spec} ({kind}) at http://{session.b32}/ (port {args.port})"
        if server_class is not None:
            server = server_class(app, session, args.port, timeout_graceful_shutdown=GRACE)
            try:
                await server.start()
            except RuntimeError as exc:  # the app failed its lifespan startup
                raise CommandError(f"--asgi {spec}: {exc}", 1) from None
            try:
                print(line, flush=True)
                await server.wait()  # until Ctrl-C or SIGTERM
            finally:
                await server.stop()
        else:
            await _serve_wsgi(app, SyncSession.wrap(session), args.port, line)
    return 0  # pragma: no cover - only a signal ends it


async def _serve_wsgi(app: Any, session: SyncSession, port: int, line: str) -> None:
    from i2p_streaming.web.wsgi import serve_wsgi

    # The blocking API must not be called from the loop's thread: listen from a worker.
    server: RequestServer = await asyncio.to_thread(serve_wsgi, app, session, port)
    try:
        print(line, flush=True)
        await asyncio.Event().wait()
    finally:
        await asyncio.to_thread(_stop, server)


def _stop(server: RequestServer) -> None:
    server.shutdown()
    server.server_close()
