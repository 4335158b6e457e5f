"""What the client commands share: argument checks, opening a session, Ctrl-C, errors.

Argument checks raise ``argparse.ArgumentTypeError`` (argparse prints one line, exit 2).
:class:`CommandError` carries a one-line message and an exit status out of a command;
:func:`run_command` runs a command's coroutine with SIGINT/SIGTERM cancelling it (exit 130)
and turns :class:`CommandError` into the message on stderr. A command's session:
:func:`command_session` (``async with``: opened with ``--keys``, closed within
:data:`CLOSE_TIMEOUT`), or :func:`open_session` and :func:`start_or_close` for the services
that :func:`~i2p_streaming.cli.service.serve_forever` closes; :func:`resolve_or_exit` looks
a destination up with the commands' messages.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from i2p_streaming.aio import Session, create_session
from i2p_streaming.aio.probe import identify_service, wrong_service
from i2p_streaming.checks import check_destination, check_port, parse_router
from i2p_streaming.data import Destination, PrivateKeys
from i2p_streaming.errors import (
    DataFormatError,
    DestinationLookupError,
    I2CPError,
    SessionRefusedError,
)
from i2p_streaming.router.units import parse_duration
from i2p_streaming.streaming import StreamOptions

__all__ = [
    "CLOSE_TIMEOUT",
    "EXIT_INTERRUPTED",
    "CommandError",
    "add_keys_option",
    "arg_type",
    "check_destination",
    "command_session",
    "duration_arg",
    "keys_arg",
    "not_found",
    "open_session",
    "option_arg",
    "port_arg",
    "resolve_or_exit",
    "router_arg",
    "run_command",
    "start_or_close",
]

T = TypeVar("T")

#: Exit status after SIGINT/SIGTERM (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
DEFAULT_ROUTER = "127.0.0.1:7654"
#: Seconds without an open session before the port is probed for SAM or HTTP.
PROBE_AFTER = 3.0
#: Seconds a closing session waits for its streams to end cleanly (Ctrl-C must stay < 2 s).
CLOSE_TIMEOUT = 1.0


class CommandError(Exception):
    """A command failed: ``message`` (one line) goes to stderr, ``status`` is the exit code."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def arg_type(parse: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    """Wrap ``parse`` so its ValueError becomes an argparse error with its message; ``name``
    is what argparse calls the type."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name
    return convert


def _port(text: str) -> int:
    try:
        port = int(text, 10)
    except ValueError:
        raise ValueError(f"invalid port {text!r}: not an integer") from None
    try:
        return check_port(port, allow_zero=False)
    except ValueError:
        raise ValueError(f"invalid port {text!r}: must be 1-65535") from None


def _duration(text: str) -> float:
    if text.strip().replace(".", "", 1).isdigit():
        raise ValueError(f"invalid duration {text!r}: add a unit, e.g. {text.strip()}s or 500ms")
    value = parse_duration(text)
    if value <= 0:
        raise ValueError(f"invalid duration {text!r}: must be more than 0")
    return value


def _option(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"invalid option {text!r}: expected KEY=VALUE, e.g. inbound.length=0")
    return key.strip(), value


router_arg = arg_type(parse_router, "router address")
port_arg = arg_type(_port, "port")
duration_arg = arg_type(_duration, "duration")
option_arg = arg_type(_option, "option")
destination_arg = arg_type(check_destination, "destination")


def router_address(args: argparse.Namespace) -> tuple[str, int]:
    """The router of ``--router`` or ``$I2CP_ROUTER`` (checked) or 127.0.0.1:7654."""
    if args.i2cp_router is not None:
        host, port = args.i2cp_router
        return str(host), int(port)
    env = os.environ.get("I2CP_ROUTER")
    if env:
        try:
            return parse_router(env)
        except ValueError as exc:
            raise CommandError(f"I2CP_ROUTER: {exc}", 2) from None
    return parse_router(DEFAULT_ROUTER)


def load_key_file(path: str) -> PrivateKeys:
    """The keys in ``path``; CommandError (exit 2) with the reason if unreadable or invalid."""
    try:
        return PrivateKeys.load(path)
    except OSError as exc:
        raise CommandError(f"cannot read key file {path}: {exc.strerror or exc}", 2) from None
    except DataFormatError as exc:
        raise CommandError(f"{path} is not an I2P private-key file: {exc}", 2) from None


def add_keys_option(parser: argparse.ArgumentParser) -> None:
    """``--keys FILE``: the private-key file of the command's session (see :func:`keys_arg`)."""
    parser.add_argument("--keys", default=None, metavar="FILE", help="private-key file (keygen)")


def keys_arg(args: argparse.Namespace) -> PrivateKeys | None:
    """The keys of ``--keys FILE`` (:func:`load_key_file`), or None (transient keys) when
    the command has no ``--keys`` or it was not given."""
    path = getattr(args, "keys", None)
    return None if path is None else load_key_file(path)


def not_found(name: str, exc: DestinationLookupError) -> str:
    """``NAME: not found`` with the router's reason when it says more."""
    reason = (exc.reason or "").strip()
    detail = f" ({reason})" if reason and reason.lower() != "not found" else ""
    return f"{name[:60]}: not found{detail}"


async def open_session(
    args: argparse.Namespace,
    keys: PrivateKeys | None = None,
    *,
    stream_options: StreamOptions | None = None,
) -> Session:
    """A session on the chosen router with ``-o`` options (its ``i2p.streaming.*`` keys
    applied to ``stream_options``, default the defaults); CommandError (exit 2) when the
    router cannot be reached or refuses the session, or the port answers SAM or HTTP (probed
    when the session is not open after :data:`PROBE_AFTER` seconds; a failed opening names
    them itself)."""
    host, port = router_address(args)
    options = dict(args.options)

    async def connect() -> Session:
        return await create_session(
            (host, port), keys=keys, options=options, stream_options=stream_options, timeout=60.0
        )

    opening = asyncio.ensure_future(connect())
    try:
        done, _ = await asyncio.wait({opening}, timeout=PROBE_AFTER)
        if not done:
            _wrong_service(host, port, await identify_service(host, port))
        try:
            return await opening
        except SessionRefusedError as exc:
            raise CommandError(f"router {host}:{port} refused the session: {exc}", 2) from None
        except (I2CPError, OSError, TimeoutError) as exc:  # SAM/HTTP named by the library
            if isinstance(exc, OSError) and exc.filename is not None:  # the --pcap file
                raise CommandError(f"cannot write {exc.filename}: {exc.strerror}", 2) from None
            reason = str(exc) or type(exc).__name__
            message = f"cannot use the I2CP router at {host}:{port}: {reason}"
            raise CommandError(message, 2) from None
        except ValueError as exc:
            raise CommandError(f"bad session option: {exc}", 2) from None
    finally:
        if not opening.done():
            opening.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await opening


@contextlib.asynccontextmanager
async def command_session(
    args: argparse.Namespace,
    *,
    stream_options: StreamOptions | None = None,
    close_timeout: float = CLOSE_TIMEOUT,
) -> AsyncIterator[Session]:
    """:func:`open_session` with the keys of ``--keys`` (:func:`keys_arg`) for the block;
    closed at its end, waiting at most ``close_timeout`` seconds for its streams."""
    session = await open_session(args, keys_arg(args), stream_options=stream_options)
    try:
        yield session
    finally:
        await session.close(timeout=close_timeout)


async def start_or_close(session: Session, start: Awaitable[T], failure: str) -> T:
    """Await ``start`` (a tunnel or proxy of ``session`` beginning to listen); when it
    raises ``OSError``, close ``session`` and raise CommandError ``failure: reason`` (exit 2)."""
    try:
        return await start
    except OSError as exc:
        await session.close(timeout=CLOSE_TIMEOUT)
        raise CommandError(f"{failure}: {exc.strerror or exc}", 2) from None


async def resolve_or_exit(session: Session, name: str, timeout: float) -> Destination:
    """The destination of ``name`` (:meth:`Session.resolve`); CommandError (exit 2) ``NAME:
    not found`` or ``NAME: no answer from the router``."""
    try:
        return await session.resolve(name, timeout=timeout)
    except DestinationLookupError as exc:
        raise CommandError(not_found(name, exc), 2) from None
    except TimeoutError:
        raise CommandError(f"{name[:60]}: no answer from the router", 2) from None


async def connect_or_exit(
    session: Session, dest: str, port: int, timeout: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """``session.open_connection`` for a command: the usual one-line errors (exit 2 for a
    name not found) instead of tracebacks."""
    try:
        return await session.open_connection(dest, port, timeout=timeout)
    except DestinationLookupError as exc:
        raise CommandError(not_found(dest, exc), 2) from None
    except ConnectionRefusedError as exc:
        raise CommandError(str(exc) or f"port {port}: connection refused") from None
    except TimeoutError as exc:
        raise CommandError(str(exc) or "connect timed out") from None


def _wrong_service(host: str, port: int, service: str | None) -> None:
    if service is not None:
        raise CommandError(wrong_service(f"{host}:{port}", service), 2)


async def _cancellable(main: Awaitable[int]) -> int:
    task = asyncio.ensure_future(main)
    loop = asyncio.get_running_loop()
    interrupted = False

    def stop() -> None:
        nonlocal interrupted
        interrupted = True
        task.cancel()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop)
            installed.append(sig)
    try:
        return await task
    except asyncio.CancelledError:
        if interrupted:
            return EXIT_INTERRUPTED
        raise
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def run_command(prog: str, main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run ``main()`` on a new event loop: SIGINT/SIGTERM cancel it (the coroutine cleans up
    in ``finally`` blocks) and give :data:`EXIT_INTERRUPTED`; a :class:`CommandError` prints
    ``prog: message`` on stderr and gives its status."""
    try:
        return asyncio.run(_cancellable(main()))
    except CommandError as exc:
        print(f"{prog}: {exc}", file=sys.stderr, flush=True)
        return exc.status
    except KeyboardInterrupt:  # pragma: no cover - platforms without signal handlers
        return EXIT_INTERRUPTED
