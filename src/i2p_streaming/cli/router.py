"""``i2p-streaming router``: run the embedded I2CP router in the foreground.

Prints ``I2CP router listening on HOST:PORT`` once it accepts connections, then (on a
terminal) one refreshing status line; with ``-v`` one line per session that comes and goes
(``session opened|closed B32 from HOST:PORT``). SIGINT (Ctrl-C) or SIGTERM stop it cleanly,
exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import signal
import sys
from collections.abc import Callable
from typing import Any, TextIO

from i2p_streaming.checks import check_port
from i2p_streaming.router import (
    Burst,
    EmbeddedRouter,
    Impairments,
    RouterStats,
    SessionChange,
    parse_duration,
    parse_probability,
    parse_rate,
    parse_size,
)
from i2p_streaming.router.hosts import load_hosts, parse_host_entry

__all__ = [
    "build_impairments",
    "describe",
    "exposed_warning",
    "host_names",
    "register",
    "run",
    "session_line",
    "status_line",
]


def _arg(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Turn a parser's ValueError into an argparse error carrying its message."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__
    return convert


def _parse_burst(text: str) -> Burst:
    parts = text.split(",")
    if len(parts) not in (2, 4):
        raise ValueError(
            f"invalid burst {text!r}: use P_ENTER,P_EXIT[,LOSS_GOOD,LOSS_BAD], e.g. 0.01,0.3"
        )
    values = [parse_probability(p) for p in parts]
    return Burst(*values)


def _listen_port(text: str) -> int:
    try:
        return check_port(int(text, 10))
    except (TypeError, ValueError):
        raise ValueError(f"invalid port {text!r}: must be an integer 0-65535") from None


def exposed_warning(host: str, port: int, auth: bool) -> str | None:
    """The warning for a router bound beyond loopback (None on a loopback address)."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback:
        return None
    who = "anyone who knows the password" if auth else "anyone"
    return (
        f"warning: listening on {host}:{port}, not loopback: {who} on the network can open "
        "sessions on this router" + ("" if auth else " (set --username/--password)")
    )


def register(subparsers: Any) -> None:
    """Add the ``router`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "router",
        help="run an embedded loopback I2CP router with network impairments",
        description="Run an I2CP router that routes payloads between its own sessions, "
        "impaired as asked. Durations: 300ms, 1.5s; rates: 256KiB/s, 1MB/s; "
        "probabilities: 0.01 or 1%.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port", type=_arg(_listen_port), default=7654, help="I2CP port (default 7654, 0 = any)"
    )
    prob = _arg(parse_probability)
    dur = _arg(parse_duration)
    p.add_argument("--loss", type=prob, default=0.0, help="random loss probability")
    p.add_argument(
        "--burst",
        type=_arg(_parse_burst),
        default=None,
        metavar="P_ENTER,P_EXIT[,LOSS_GOOD,LOSS_BAD]",
        help="Gilbert-Elliott bursty loss",
    )
    p.add_argument("--delay", type=dur, default=0.0, help="one-way delay, e.g. 300ms")
    p.add_argument("--jitter", type=dur, default=0.0, help="delay jitter (uniform +/-), e.g. 50ms")
    p.add_argument("--rate", type=_arg(parse_rate), default=None, help="bandwidth cap per pair")
    p.add_argument(
        "--queue", type=_arg(parse_size), default=256 * 1024, help="rate-cap queue (256KiB)"
    )
    p.add_argument("--duplicate", type=prob, default=0.0, help="duplication probability")
    p.add_argument("--reorder", type=prob, default=0.0, help="probability to hold a payload back")
    p.add_argument(
        "--reorder-delay", type=dur, default=0.05, help="extra delay of held-back payloads (50ms)"
    )
    p.add_argument("--corrupt", type=prob, default=0.0, help="corruption probability")
    p.add_argument("--blackhole", action="store_true", help="drop every payload")
    p.add_argument("--seed", type=int, default=None, help="random seed (reproducible runs)")
    p.add_argument("--username", default=None, help="require this I2CP user name")
    p.add_argument("--password", default=None, help="require this I2CP password")
    p.add_argument(
        "--hosts",
        type=_arg(_load_hosts),
        action="append",
        default=[],
        metavar="FILE",
        help="host names to resolve (hosts.txt: name.i2p=base64 lines); repeatable",
    )
    p.add_argument(
        "--name",
        type=_arg(parse_host_entry),
        action="append",
        default=[],
        metavar="NAME=DEST",
        help="one host name to resolve (NAME.i2p=base64 destination); repeatable",
    )
    p.add_argument(
        "--status-interval",
        type=dur,
        default=0.5,
        help="status line refresh period (0.5s; 0: no status line)",
    )
    p.set_defaults(run=run)


def _load_hosts(path: str) -> dict[str, Any]:
    try:
        return load_hosts(path)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None


def host_names(args: argparse.Namespace) -> dict[str, Any]:
    """The name table of ``--hosts`` files then ``--name`` entries (later ones win)."""
    names: dict[str, Any] = {}
    for table in args.hosts:
        names.update(table)
    names.update(dict(args.name))
    return names


def build_impairments(args: argparse.Namespace) -> Impairments:
    """The :class:`Impairments` described by the parsed arguments."""
    return Impairments(
        delay=args.delay,
        jitter=args.jitter,
        loss=args.loss,
        burst=args.burst,
        duplicate=args.duplicate,
        reorder=args.reorder,
        reorder_delay=args.reorder_delay,
        rate=args.rate,
        queue_bytes=args.queue,
        corrupt=args.corrupt,
        blackhole=args.blackhole,
    )


def describe(imp: Impairments) -> str:
    """A short human description of the impairments ("no impairments" when perfect)."""
    parts = []
    if imp.blackhole:
        parts.append("blackhole")
    if imp.delay or imp.jitter:
        parts.append(f"delay {imp.delay * 1000:g}ms ±{imp.jitter * 1000:g}ms")
    for name in ("loss", "duplicate", "reorder", "corrupt"):
        value = getattr(imp, name)
        if value:
            parts.append(f"{name} {value:g}")
    if imp.burst is not None:
        parts.append(f"burst {imp.burst.p_enter:g}/{imp.burst.p_exit:g}")
    if imp.rate is not None:
        parts.append(f"rate {imp.rate / 1024:g}KiB/s queue {imp.queue_bytes // 1024}KiB")
    return ", ".join(parts) or "no impairments"


def status_line(stats: RouterStats) -> str:
    """``sessions=N delivered=N dropped=N ...`` for the refreshing status line."""
    c = stats.counters
    return (
        f"sessions={stats.sessions} connections={stats.connections} delivered={c.delivered} "
        f"dropped={c.dropped} duplicated={c.duplicated} corrupted={c.corrupted} "
        f"bytes={c.bytes} errors={stats.protocol_errors}"
    )


def session_line(change: SessionChange) -> str:
    """``session opened|closed B32 from HOST:PORT`` (the ``-v`` line for one session)."""
    what = "opened" if change.opened else "closed"
    return f"session {what} {change.b32} from {change.client}"


def _session_printer(out: TextIO) -> Callable[[SessionChange], None]:
    erase = "\r\x1b[K" if out.isatty() else ""

    def show(change: SessionChange) -> None:
        print(f"{erase}{session_line(change)}", file=out, flush=True)

    return show


async def _serve(args: argparse.Namespace, out: TextIO) -> int:
    verbose = getattr(args, "verbose", 0) > 0
    router = EmbeddedRouter(
        args.host,
        args.port,
        impairments=build_impairments(args),
        seed=args.seed,
        username=args.username,
        password=args.password,
        names=host_names(args),
        on_session=_session_printer(out) if verbose else None,
    )
    try:
        await router.start()
    except OSError as exc:
        print(f"i2p-streaming router: cannot listen on {args.host}:{args.port}: {exc}", file=out)
        return 1
    host, port = router.address
    print(f"I2CP router listening on {host}:{port} ({describe(router.impairments)})", file=out)
    warning = exposed_warning(args.host, port, args.username is not None)
    if warning is not None:
        print(warning, file=sys.stderr, flush=True)
    print("press Ctrl-C to stop", file=out, flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        await show_status(router, stop, args.status_interval, out)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await router.stop()
    print(f"\nstopped: {status_line(router.stats())}", file=out, flush=True)
    return 0


async def show_status(
    router: EmbeddedRouter, stop: asyncio.Event, interval: float, out: TextIO
) -> None:
    """Redraw the status line on a terminal every ``interval`` seconds until ``stop`` is set;
    ``interval`` 0 (or ``out`` not a terminal): no status lines, just wait."""
    live = out.isatty() and interval > 0
    while not stop.is_set():
        if not live:
            await stop.wait()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        print(f"\r{status_line(router.stats())}\x1b[K", end="", file=out, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the router until SIGINT/SIGTERM; return the exit code (0, or 1 if it cannot bind)."""
    try:
        return asyncio.run(_serve(args, sys.stdout))
    except KeyboardInterrupt:  # pragma: no cover - platforms without signal handlers
        return 0
