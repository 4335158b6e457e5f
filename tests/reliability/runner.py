"""Run one cell: router, two sessions, every stream's transfer, run-time control, outcome.

The connects, transfers and stream closes run as one task under the cell's hard wall-clock
limit (``asyncio.wait``: a cell that exceeds it is a HANG, with a snapshot of every stream's
stats as its diagnosis); the session closes get ``close_limit`` more (exceeding it is a HANG
too). Outcomes: ``ok`` and ``expected-error`` pass; ``CORRUPTED``, ``HANG``,
``UNEXPECTED-ERROR`` and ``UNEXPECTED-OK`` (an error was expected, every stream completed)
fail.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import i2p_streaming
from i2p_streaming.router import EmbeddedRouter, Impairments
from tests.reliability.cells import (
    Blackhole,
    Cell,
    DropFirst,
    HandshakeImpairments,
    KillRouter,
    Mode,
    StopRouter,
)
from tests.reliability.routers import RouterHandle, start_router
from tests.reliability.transfer import (
    CorruptionError,
    Progress,
    Server,
    StreamRecord,
    client,
    payload,
)

__all__ = ["PASSING", "CellResult", "run_cell"]

log = logging.getLogger("tests.reliability")

PORT = 4433
#: Outcomes that pass.
PASSING = frozenset({"ok", "expected-error"})


@dataclass(slots=True)
class CellResult:
    """What one cell did. ``bytes`` are the payload bytes verified at both ends, ``seconds``
    the wall time of connects + transfers + stream closes, ``goodput`` bytes/s over it,
    ``retransmissions`` summed over both ends of every stream (``None`` when no stream had
    stats), ``router`` the router's payload counters (in-process router only)."""

    name: str
    description: str
    outcome: str
    expected: str
    bytes: int
    expected_bytes: int
    seconds: float
    goodput: float
    retransmissions: int | None
    streams_opened: int
    streams: int
    error: str = ""
    detail: list[str] = field(default_factory=list)
    router: dict[str, int] = field(default_factory=dict)
    known_defect: str | None = None

    @property
    def passed(self) -> bool:
        return self.outcome in PASSING

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _expected(cell: Cell) -> str:
    if not cell.expect:
        return "complete"
    return "/".join(e.__name__ for e in cell.expect)


def _describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _stat(writer: asyncio.StreamWriter | None, name: str) -> Any:
    if writer is None:
        return None
    stats = writer.get_extra_info("stats")
    return None if stats is None else getattr(stats, name, None)


def _snapshot(writer: asyncio.StreamWriter | None) -> str:
    if writer is None:
        return "not open"
    stats = writer.get_extra_info("stats")
    if stats is None:
        return "no stats"
    names = (
        "state",
        "bytes_sent",
        "bytes_received",
        "unacked",
        "send_buffered",
        "receive_buffered",
        "window",
        "rtt",
        "rto",
        "packets_retransmitted",
        "choking",
        "choked",
    )
    parts = []
    for name in names:
        value = getattr(stats, name, None)
        if value is None:
            continue
        if isinstance(value, float):
            value = f"{value:.3g}"
        parts.append(f"{name}={getattr(value, 'name', value)}")
    return " ".join(parts)


def _retransmissions(records: list[StreamRecord]) -> int | None:
    total, seen = 0, False
    for r in records:
        for w in (r.client_writer, r.server_writer):
            value = _stat(w, "packets_retransmitted")
            if isinstance(value, int):
                total, seen = total + value, True
    return total if seen else None


def _arm(
    cell: Cell, handle: RouterHandle, a: i2p_streaming.Session, b: i2p_streaming.Session
) -> None:
    """The part of the control in force before the first SYN."""
    c = cell.control
    if isinstance(c, HandshakeImpairments):
        handle.router.impairments = c.impairments
    elif isinstance(c, DropFirst):
        src, dst = (a, b) if c.direction == "syn" else (b, a)
        handle.router.set_pair_impairments(
            src.destination, dst.destination, Impairments(blackhole=True)
        )


async def _control(
    cell: Cell,
    handle: RouterHandle,
    a: i2p_streaming.Session,
    b: i2p_streaming.Session,
    progress: Progress,
    connects_done: asyncio.Event,
    notes: list[str],
) -> None:
    """The run-time part of the cell's control (router changes while streams run)."""
    c = cell.control
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    if isinstance(c, HandshakeImpairments):
        await connects_done.wait()
        handle.router.impairments = cell.impairments
        notes.append(f"handshake impairments cleared at {loop.time() - t0:.2f} s")
    elif isinstance(c, DropFirst):
        src, dst = (a, b) if c.direction == "syn" else (b, a)
        s, d = src.destination, dst.destination

        def dropped(r: EmbeddedRouter) -> bool:
            return r.counters(s, d).dropped >= c.count

        await handle.router.wait_until(dropped, timeout=cell.limit + 60)
        handle.router.set_pair_impairments(s, d, None)
        notes.append(f"{c.count} {c.direction} payload(s) dropped by {loop.time() - t0:.2f} s")
    elif isinstance(c, Blackhole):
        await progress.reached(c.at)
        handle.router.impairments = cell.impairments.replace(blackhole=True)
        notes.append(f"blackhole from {loop.time() - t0:.2f} s ({progress.received} bytes)")
        if c.duration is not None:
            await asyncio.sleep(c.duration)  # the scenario's outage, not a synchronisation
            handle.router.impairments = cell.impairments
            notes.append(
                f"blackhole cleared at {loop.time() - t0:.2f} s ({progress.received} bytes)"
            )
    elif isinstance(c, StopRouter):
        await progress.reached(c.at)
        notes.append(f"router stopped at {loop.time() - t0:.2f} s ({progress.received} bytes)")
        await handle.router.stop()
    elif isinstance(c, KillRouter):
        await progress.reached(c.at)
        notes.append(f"router killed at {loop.time() - t0:.2f} s ({progress.received} bytes)")
        handle.kill()


async def _transfers(
    cell: Cell,
    a: i2p_streaming.Session,
    b: i2p_streaming.Session,
    records: list[StreamRecord],
    server: Server,
    connects_done: asyncio.Event,
) -> list[BaseException | None]:
    """Open every stream (concurrently), run the transfers; return each client's error.
    ``connects_done`` is set once every stream is open or failed to open."""
    kwargs: dict[str, Any] = {} if cell.backlog is None else {"backlog": cell.backlog}
    listener = await b.start_server(server, PORT, **kwargs)
    settled = 0

    def settle() -> None:  # a stream opened, or its connect failed
        nonlocal settled
        settled += 1
        if settled == len(records):
            connects_done.set()

    def connector() -> Any:
        return a.open_connection(b.destination, PORT, timeout=cell.connect_timeout)

    def settle_unopened(record: StreamRecord) -> Callable[[asyncio.Future[None]], None]:
        return lambda _: None if record.opened else settle()

    tasks = []
    for r in records:
        task = asyncio.ensure_future(client(r, server.progress, connector, settle))
        task.add_done_callback(settle_unopened(r))
        tasks.append(task)
    try:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for t in tasks:
            t.cancel()
        listener.close()
    return [r if isinstance(r, BaseException) else None for r in results]


def _classify(
    cell: Cell, client_errors: list[BaseException], server_errors: list[BaseException]
) -> tuple[str, str]:
    """``(outcome, error text)`` from the errors seen by the clients and the server."""
    everything = client_errors + server_errors
    corrupt = [e for e in everything if isinstance(e, CorruptionError)]
    if corrupt:
        return "CORRUPTED", _describe_error(corrupt[0])
    if not cell.expect:
        if everything:
            return "UNEXPECTED-ERROR", _describe_error(everything[0])
        return "ok", ""
    if not client_errors:
        return "UNEXPECTED-OK", "every stream completed"
    for exc in client_errors:
        if not isinstance(exc, cell.expect) or cell.expect_text not in str(exc):
            return "UNEXPECTED-ERROR", _describe_error(exc)
    return "expected-error", _describe_error(client_errors[0])


async def _wait_body(
    body: asyncio.Future[Any], control: asyncio.Future[None], deadline: float
) -> None:
    """Wait until ``body`` is done, ``control`` failed, or ``deadline`` (loop time)."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Future[Any]] = {body, control}
    while not body.done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        if control.done():
            if control.exception() is not None:
                return
            pending.discard(control)


async def _close_session(session: i2p_streaming.Session | None) -> None:
    if session is not None:
        await session.close()


async def run_cell(cell: Cell) -> CellResult:
    """Run ``cell`` and return its result (never raises for what the cell does)."""
    loop = asyncio.get_running_loop()
    progress = Progress(cell.expected_bytes)
    records = []
    for i in range(cell.streams):
        up = cell.size if cell.mode is not Mode.DOWNLOAD else 0
        down = {Mode.ECHO: 0, Mode.DOWNLOAD: cell.size}.get(cell.mode, cell.reply)
        up_data = payload(cell.seed, i, "up", up)
        down_data = up_data if cell.mode is Mode.ECHO else payload(cell.seed, i, "down", down)
        records.append(StreamRecord(i, cell.mode, up_data, down_data))
    server = Server({r.index: r for r in records}, progress)
    notes: list[str] = []
    outcome, error = "HANG", ""
    seconds = 0.0
    counters: dict[str, int] = {}
    options = {
        **cell.options,
        "i2p.streaming.connectTimeout": str(int(cell.connect_timeout * 1000)),
    }
    subprocess = isinstance(cell.control, KillRouter)
    a = b = None
    async with start_router(cell.impairments, cell.seed, subprocess=subprocess) as handle:
        try:
            a = await i2p_streaming.create_session(handle.address, options=options)
            b = await i2p_streaming.create_session(handle.address, options=options)
            _arm(cell, handle, a, b)
            connects_done = asyncio.Event()
            started = loop.time()
            body = asyncio.ensure_future(_transfers(cell, a, b, records, server, connects_done))
            control = asyncio.ensure_future(
                _control(cell, handle, a, b, progress, connects_done, notes)
            )
            await _wait_body(body, control, started + cell.limit)
            seconds = loop.time() - started
            server_errors = list(server.errors)
            if control.done() and not control.cancelled() and control.exception() is not None:
                exc = control.exception()
                assert exc is not None
                outcome, error = "UNEXPECTED-ERROR", f"control: {_describe_error(exc)}"
            elif not body.done():
                outcome = "HANG"
                error = f"not finished within {cell.limit:g} s"
                notes.extend(_diagnosis(records, progress))
            else:
                client_errors = [e for e in body.result() if e is not None]
                outcome, error = _classify(cell, client_errors, server_errors)
                if client_errors:
                    kinds = Counter(type(e).__name__ for e in client_errors)
                    notes.append(
                        f"{len(client_errors)} of {cell.streams} streams failed at the client: "
                        + ", ".join(f"{n} {k}" for k, n in kinds.items())
                    )
                if outcome not in PASSING:
                    notes.extend(_diagnosis(records, progress))
            for task in (body, control):
                task.cancel()
            if handle.in_process:
                # a clean network for the session closes (the CLOSE handshakes of what is left)
                handle.router.impairments = Impairments()
                c = handle.router.counters()
                counters = {
                    "delivered": c.delivered,
                    "dropped": c.dropped,
                    "duplicated": c.duplicated,
                    "corrupted": c.corrupted,
                    "reordered": c.reordered,
                    "overflow": c.overflow,
                }
        except Exception as exc:  # the harness itself (sessions could not open, ...)
            outcome, error = "UNEXPECTED-ERROR", f"harness: {_describe_error(exc)}"
        finally:
            closing = asyncio.ensure_future(
                asyncio.gather(_close_session(a), _close_session(b), return_exceptions=True)
            )
            done, _ = await asyncio.wait({closing}, timeout=cell.close_limit)
            if not done:
                closing.cancel()
                if outcome in PASSING:
                    outcome = "HANG"
                    error = f"Session.close() not finished within {cell.close_limit:g} s"
            for r in records:  # consumed here: the server half may end after the cell
                if r.server_done.done() and not r.server_done.cancelled():
                    r.server_done.exception()
                r.server_done.cancel()
    total = progress.received
    return CellResult(
        name=cell.name,
        description=cell.describe(),
        outcome=outcome,
        expected=_expected(cell),
        bytes=total,
        expected_bytes=cell.expected_bytes,
        seconds=round(seconds, 3),
        goodput=round(total / seconds, 1) if seconds > 0 else 0.0,
        retransmissions=_retransmissions(records),
        streams_opened=sum(r.opened for r in records),
        streams=cell.streams,
        error=error,
        detail=notes,
        router=counters,
        known_defect=cell.known_defect,
    )


def _diagnosis(records: list[StreamRecord], progress: Progress) -> list[str]:
    """Progress, and which streams did not finish with what their stats said (at most five)."""
    lines = [f"progress {progress.received}/{progress.total} bytes"]
    stuck = [r for r in records if not r.server_done.done()]
    for r in stuck[:5]:
        lines.append(f"stream {r.index} client: {_snapshot(r.client_writer)}")
        lines.append(f"stream {r.index} server: {_snapshot(r.server_writer)}")
    if len(stuck) > 5:
        lines.append(f"... {len(stuck) - 5} more streams unfinished")
    return lines
