"""``paths.py --peer java``: the real Java I2P streaming library on the embedded router (issue 19).

Per cell (one-way delay and loss set on the embedded router, as in the real-time set), three
transfers of ``size`` pattern bytes on the same path and router seed, one after the other:

* ``ours_to_java``: our sender into Java's receiver (``JavaPeer sink`` connects to our
  session; our stream writes the bytes, then closes);
* ``java_to_ours``: Java's sender into our receiver (``JavaPeer source`` connects and writes);
* ``ours_to_ours``: our sender into our receiver (two sessions on the one router).

Goodput: bytes delivered to the receiving application / (the arrival of its last byte - the
arrival of its first), so that the handshake (which differs: Java's ``connect()`` returns a
round trip after our accept) is outside it in every direction. A transfer still running
``limit`` seconds after the receiving side's accept (ours) or ``connect()`` (Java's) is stopped
there (``completed`` false, goodput over the limit). Retransmissions: ours from the sending
stream's stats; for every sender also ``path_messages``, the messages the embedded router took
from the sending session towards the receiver (delivered + dropped - duplicated), so Java's
retransmissions are the messages on the path - its distinct sequence numbers (read from its
Connection by reflection in JavaPeer, once a second and at the end; both counts are taken at
its last STATS line; this counts its few plain ACKs too). Java's own duplicate counter
(``java_dup_counter``) skips each packet's first resend, so it is reported but not used.
The router's seed fixes its loss draws, but the two stacks send different packet sequences,
so "the same seed" means the same path, not the same lost packets.

Needs ``JAVA_I2P_HOME`` (``tests/support/java.py``: a built Java I2P, java and javac); without
it :func:`run` returns None and the caller prints why.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pathsim import PathSpec, rounded
from tests.support.java import JavaInstall, JavaPeer, JavaProcess, compile_peer, java_home

from i2p_streaming.aio import Session, create_session
from i2p_streaming.router import EmbeddedRouter
from i2p_streaming.streaming import StreamOptions, StreamStats

Metrics = dict[str, Any]
OPTS = StreamOptions()
DIRECTIONS = ("ours_to_java", "java_to_ours", "ours_to_ours")
SKIP_REASON = (
    "--peer java: skipped: JAVA_I2P_HOME is not set to a built Java I2P with java and javac "
    "on PATH (see docs/java-interop.md)"
)


@dataclass(frozen=True, slots=True)
class JavaCell:
    """One path: ``rtt`` (twice the one-way delay), ``loss`` per packet, jitter +/- 5 % of the
    one-way delay; ``size`` bytes per transfer, stopped after ``limit`` seconds."""

    name: str
    path: PathSpec
    size: int
    limit: float


def java_cells(size: int, limit: float) -> list[JavaCell]:
    """RTT 0.3 / 0.6 s x loss 0 / 1 / 3 %."""
    out = []
    for rtt in (0.3, 0.6):
        for loss in (0.0, 0.01, 0.03):
            name = f"java-rtt{round(rtt * 1000)}-loss{round(loss * 100)}"
            out.append(JavaCell(name, PathSpec(rtt, loss, jitter=0.05 * rtt / 2), size, limit))
    return out


def pattern(size: int) -> bytes:
    """JavaPeer's pattern: byte i is i % 251."""
    return (bytes(range(251)) * (size // 251 + 1))[:size]


class _Arrivals:
    """Bytes reaching one receiving application, with the time of the first and last."""

    def __init__(self) -> None:
        self.start: float | None = None
        self.first: float | None = None
        self.last = 0.0
        self.bytes = 0
        self.intact = True
        self.done = asyncio.Event()


def _ours_metrics(st: StreamStats | None) -> Metrics:
    sent = st.packets_sent if st else 0
    resent = st.packets_retransmitted if st else 0
    return {
        "retransmitted": resent if st else None,
        "data_packets": sent if st else None,
        "retrans_ratio": rounded(resent / sent, 4) if sent else None,
        "window_end": st.window if st else None,
        "rtt_end_s": rounded(st.rtt) if st and st.rtt else None,
    }


def _java_metrics(line: str | None) -> Metrics:
    """From JavaPeer's ``STATS dup distinct window rtt_ms`` (None/"-": not reported); the
    retransmissions follow from the router's count (:func:`_java_retransmissions`)."""
    fields = (line or "-").split()
    if len(fields) != 4:
        return {"java_dup_counter": None, "distinct_packets": None}
    dup, distinct, window, rtt_ms = (int(x) for x in fields)
    return {
        "java_dup_counter": dup,
        "distinct_packets": distinct,
        "window_end": window,
        "rtt_end_s": rounded(rtt_ms / 1000),
    }


def _sent(router: EmbeddedRouter, receiver: Session) -> int:
    """Messages the router took towards ``receiver`` (delivered + dropped - duplicated)."""
    c = router.counters(dst=receiver.destination)
    return c.delivered + c.dropped - c.duplicated


def _java_retransmissions(m: Metrics) -> None:
    """Java's retransmissions: messages on the path (when its last STATS line came) minus its
    distinct sequence numbers."""
    total, distinct = m.get("path_messages_at_stats"), m.get("distinct_packets")
    if total is None or distinct is None:
        m |= {"retransmitted": None, "data_packets": None, "retrans_ratio": None}
        return
    resent = max(0, total - distinct)
    m |= {
        "retransmitted": resent,
        "data_packets": total,
        "retrans_ratio": rounded(resent / total, 4) if total else None,
    }


def _result(cell: JavaCell, got: int, elapsed: float | None, **extra: Any) -> Metrics:
    completed = got == cell.size
    span = elapsed if completed and elapsed else cell.limit
    ceiling = OPTS.max_window_size * OPTS.max_message_size / cell.path.rtt
    goodput = got / span if span > 0 else 0.0
    return {
        "completed": completed,
        "bytes_delivered": got,
        "seconds": rounded(span, 2),
        "goodput_Bps": round(goodput),
        "share": rounded(goodput / ceiling, 3),
    } | extra


async def _sample_stats(writer: asyncio.StreamWriter, box: list[StreamStats]) -> None:
    """Keep the latest stats snapshot of ``writer``'s stream in ``box`` (every 0.2 s)."""
    while True:
        st = writer.get_extra_info("stats")
        if st is not None:
            box[:] = [st]
        await asyncio.sleep(0.2)


async def _send(writer: asyncio.StreamWriter, data: bytes, box: list[StreamStats]) -> None:
    """Write ``data``, half-close, wait for the stream to end; the last stats in ``box``."""
    sampler = asyncio.get_running_loop().create_task(_sample_stats(writer, box))
    try:
        writer.write(data)
        await writer.drain()
        writer.write_eof()
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    finally:
        sampler.cancel()
        st = writer.get_extra_info("stats")
        if st is not None:
            box[:] = [st]


def _receiver(arr: _Arrivals, expected: bytes) -> Any:
    loop = asyncio.get_running_loop()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        arr.start = loop.time()
        try:
            while data := await reader.read(1 << 20):
                if data != expected[arr.bytes : arr.bytes + len(data)]:
                    arr.intact = False
                arr.bytes += len(data)
                arr.last = loop.time()
                if arr.first is None:
                    arr.first = arr.last
            writer.close()
        except ConnectionError:
            pass
        finally:
            arr.done.set()

    return handle


async def _ours_to_java(cell: JavaCell, java: JavaPeer, target: str, ours: Session) -> Metrics:
    data = pattern(cell.size)
    box: list[StreamStats] = []
    senders: list[asyncio.Task[None]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        senders.append(asyncio.current_task())  # type: ignore[arg-type]
        await _send(writer, data, box)

    server = await ours.start_server(handle, 0)
    host, port = target.rsplit(":", 1)
    proc = await java.start("sink", (host, int(port)), ours.destination.to_base64(), str(cell.size))
    got, elapsed = 0, None
    try:
        async with asyncio.timeout(cell.limit + 60):  # + JVM start and session setup
            got, elapsed = await _java_progress(proc, cell)
        if got == cell.size and senders:  # let the sender see its last ACK (final stats)
            await asyncio.wait(senders, timeout=10)
    except TimeoutError:
        pass
    finally:
        for task in senders:
            task.cancel()
        server.close()
        await proc.stop()
    return _result(cell, got, elapsed, **_ours_metrics(box[0] if box else None))


async def _java_progress(proc: JavaProcess, cell: JavaCell) -> tuple[int, float | None]:
    """Follow the sink's GOT lines until all bytes or ``cell.limit`` after its connect: the
    bytes and the seconds from the first read to the last (None before two reads)."""
    got, first, ms = 0, None, 0
    deadline: float | None = None
    loop = asyncio.get_running_loop()
    while got < cell.size:
        wait = None if deadline is None else max(0.0, deadline - loop.time())
        try:
            async with asyncio.timeout(wait):
                text = await proc.next_line()
        except TimeoutError:
            break
        if text is None or text.startswith("ERR "):
            break
        if text.startswith("GOT "):
            got, ms = (int(x) for x in text[4:].split())
            if deadline is None:
                first = ms
                deadline = loop.time() - ms / 1000 + cell.limit
    return got, (ms - first) / 1000 if first is not None and ms > first else None


async def _java_to_ours(
    cell: JavaCell, java: JavaPeer, target: str, ours: Session, sent: Callable[[], int]
) -> Metrics:
    """``sent()``: the messages on the path towards ``ours`` so far, taken with each STATS
    line so that an unfinished run's retransmissions compare counts of the same moment."""
    arr = _Arrivals()
    server = await ours.start_server(_receiver(arr, pattern(cell.size)), 0)
    host, port = target.rsplit(":", 1)
    proc = await java.start(
        "source", (host, int(port)), ours.destination.to_base64(), str(cell.size)
    )
    last: list[tuple[str, int]] = []

    async def follow() -> None:
        while (text := await proc.next_line()) is not None:
            if text.startswith("STATS "):
                last[:] = [(text[6:], sent())]

    follower = asyncio.get_running_loop().create_task(follow())
    try:
        async with asyncio.timeout(cell.limit + 60):
            while arr.start is None and proc.proc.returncode is None:
                await asyncio.sleep(0.1)
            async with asyncio.timeout(cell.limit):
                await arr.done.wait()
            await asyncio.wait([follower], timeout=30)  # its last STATS line, then its exit
    except TimeoutError:
        pass
    finally:
        follower.cancel()
        server.close()
        await proc.stop()
    stats, on_path = last[0] if last else (None, None)
    elapsed = arr.last - arr.first if arr.first is not None else None
    m = _result(cell, arr.bytes, elapsed, intact=arr.intact, **_java_metrics(stats))
    m["path_messages_at_stats"] = on_path
    return m


async def _ours_to_ours(cell: JavaCell, target: str, ours: Session) -> Metrics:
    arr = _Arrivals()
    box: list[StreamStats] = []
    async with create_session(target) as sender:
        server = await ours.start_server(_receiver(arr, pattern(cell.size)), 0)
        _, writer = await sender.open_connection(ours.destination, 0, timeout=60)
        task = asyncio.get_running_loop().create_task(_send(writer, pattern(cell.size), box))
        try:
            async with asyncio.timeout(cell.limit + 30):
                while arr.start is None:
                    await asyncio.sleep(0.05)
                async with asyncio.timeout(cell.limit):
                    await arr.done.wait()
                await task
        except TimeoutError:
            pass
        finally:
            task.cancel()
            server.close()
    elapsed = arr.last - arr.first if arr.first is not None else None
    st = box[0] if box else None
    return _result(cell, arr.bytes, elapsed, intact=arr.intact, **_ours_metrics(st))


async def _run_cell(cell: JavaCell, direction: str, java: JavaPeer, seed: int) -> Metrics:
    impairments = cell.path.impairments()
    async with EmbeddedRouter(host="127.0.0.1", port=0, impairments=impairments, seed=seed) as r:
        host, port = r.address
        target = f"{host}:{port}"
        async with create_session(target) as ours:
            try:
                if direction == "ours_to_java":
                    m = await _ours_to_java(cell, java, target, ours)
                elif direction == "java_to_ours":
                    m = await _java_to_ours(cell, java, target, ours, lambda: _sent(r, ours))
                else:
                    m = await _ours_to_ours(cell, target, ours)
            finally:
                await java.close()
        # the sending session's messages towards the receiver, as the router counted them
        if direction == "ours_to_java":
            fwd = r.counters(src=ours.destination)
        else:
            fwd = r.counters(dst=ours.destination)
        m["path_messages"] = fwd.delivered + fwd.dropped - fwd.duplicated
        m["path_dropped"] = fwd.dropped
        m["dropped"] = r.counters().dropped
    if direction == "java_to_ours":
        _java_retransmissions(m)
    return m


def run(cells: list[JavaCell], seed: int, log: Any) -> dict[str, Metrics] | None:
    """Every cell in the three directions; None (nothing run) without a Java I2P build."""
    install = java_home()
    if install is None:
        return None
    with tempfile.TemporaryDirectory(prefix="javapeer-") as tmp:
        classes = compile_peer(install, Path(tmp))
        return _run_all(cells, seed, log, install, classes)


def _run_all(
    cells: list[JavaCell], seed: int, log: Any, install: JavaInstall, classes: Path
) -> dict[str, Metrics]:
    out: dict[str, Metrics] = {}
    for cell in cells:
        row: Metrics = {
            "rtt_s": cell.path.rtt,
            "loss": cell.path.loss,
            "jitter_s": rounded(cell.path.jitter, 4),
            "bytes": cell.size,
            "limit_s": cell.limit,
            "seed": seed,
        }
        for direction in DIRECTIONS:
            t0 = time.monotonic()
            try:
                m = asyncio.run(_run_cell(cell, direction, JavaPeer(install, classes), seed))
            except Exception as exc:  # a benchmark records a failed run and goes on
                m = {"error": repr(exc)}
            row[direction] = m
            log(
                f"{cell.name} {direction}: {m.get('goodput_Bps')} B/s, rtx "
                f"{m.get('retrans_ratio')} ({time.monotonic() - t0:.0f} s wall)"
            )
        out[cell.name] = row
    return out


def table(results: dict[str, Metrics]) -> str:
    """Goodput (KB/s) and retransmission ratio per direction, side by side."""
    heads = "  ".join(f"{d:>22}" for d in DIRECTIONS)
    lines = [
        f"{'cell':22} {heads}",
        f"{'':22} " + "  ".join(f"{'KB/s   rtx':>22}" for _ in DIRECTIONS),
    ]
    for name, row in results.items():
        cols = []
        for d in DIRECTIONS:
            m = row.get(d)
            if not m or "error" in m:
                cols.append(f"{'failed':>22}")
                continue
            rtx = m.get("retrans_ratio")
            mark = "" if m.get("completed") else "*"
            kb = f"{m['goodput_Bps'] / 1000:.1f}{mark}"
            cols.append(f"{kb:>14} {'-' if rtx is None else f'{rtx:.4f}':>7}")
        lines.append(f"{name:22} " + "  ".join(cols))
    lines.append("(* not complete within the limit: goodput over the limit)")
    return "\n".join(lines)


def main(parser: argparse.ArgumentParser, args: argparse.Namespace, log: Any) -> None:
    """``paths.py --peer java``: the Java set only, or a skip message without Java; JSON to
    ``args.json`` (or stdout)."""
    chosen = java_cells(args.java_size, args.java_limit)
    if args.list:
        print("\n".join(c.name for c in chosen))
        return
    if args.cells:
        pool = {c.name: c for c in chosen}
        unknown = set(args.cells.split(",")) - set(pool)
        if unknown:
            parser.error(f"unknown cells: {', '.join(sorted(unknown))}")
        chosen = [pool[n] for n in args.cells.split(",")]
    report: Metrics = {"benchmark": "paths", "date": time.strftime("%Y-%m-%d"), "mode": "java"}
    results = run(chosen, 1, log)
    if results is None:
        log(SKIP_REASON)
        report["skipped"] = SKIP_REASON
    else:
        report["max_window"] = OPTS.max_window_size
        report["payload_per_packet"] = OPTS.max_message_size
        report["cells_java"] = results
        log(table(results))
    text = json.dumps(report, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    else:
        print(text)
