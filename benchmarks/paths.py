"""Loss recovery and congestion control on I2P-like paths (issue 12); prints JSON.

    python benchmarks/paths.py [--quick] [--real] [--cells NAME,...] [--seeds N] [--json FILE]
                               [--peer ours|java-rules|java] [--java-size B] [--java-limit S]

Simulated time (default): the sans-I/O core over the router's own impairment engine
(``pathsim.py``), one seed string per cell and run. ``--real`` adds a short real-time set
over the embedded router (each cell ``REAL_SECONDS`` long) next to the same cells simulated
with the same horizon. Definitions (docs/benchmarks.md):

* ceiling: ``maxWindowSize`` packets x payload per packet (the stream's negotiated MTU, 1812)
  per configured RTT, times the number of streams; the rate cap when the path has one (lower);
* whole share: all bytes / (time the last byte reached the receiving app - connect) / ceiling;
* steady share: (bytes between the arrival of 25 % and of 90 % of all bytes) / (time between
  those two arrivals) / ceiling;
* ramp: the first time the goodput over 4 RTTs reaches 0.9 x ceiling (null: never);
* retransmission ratio: retransmitted / all data packets the senders' stats count;
  ``unneeded``: retransmissions of a sequence number whose earlier copy got through the path
  (spurious: the data was not lost); ``after_timer``: retransmissions right after a timer;
* stall: a gap of more than max(1 s, 3 RTT) between two arrivals on one stream.

``--peer java-rules`` runs every single-stream cell twice more: into a receiver that follows
Java I2P's ack, NACK and choke rules (``tests/support/javapeer.py``, issue 19), and into our
own receiver held to Java's acceptance limits (:data:`JAVA_LIMITS`: at most 130 packets out
of order, then it chokes and drops, as Java's ``MessageInputStream`` / ``canAccept``). It
prints the three tables; the JSON gains ``cells_java_rules`` and ``cells_java_limits`` and,
per Java-rules cell, the ratios of its steady and whole shares to ours (``*_vs_ours``) and to
the same-limit receiver's (``*_vs_same_limits``): the first is what Java's receiver costs,
the second what its ack rules cost beyond its buffer.
* sender silence (one flow): the longest time the client sent no data packet while nothing
  came in either (``send_silence_max_s``), and that over its RTO (``send_silence_rto``;
  ``pathsim.Silence``): above 1 the sender stalled longer than one RTO.

``--peer java`` runs only the Java set (``pathsjava.py``: RTT 0.3 / 0.6 s x loss 0 / 1 / 3 % on
the embedded router, in real time): our sender into Java I2P's receiver, Java's sender into
ours, and ours into ours, side by side; it needs ``JAVA_I2P_HOME`` and says why it skipped
without it (the JSON then holds ``skipped``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from array import array
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support (--peer)

from pathsim import (
    WIRE_OVERHEAD,
    Flow,
    PathSpec,
    Sampler,
    Simulation,
    quantile,
    rounded,
    timeline_metrics,
    window_bytes,
)

from i2p_streaming.streaming import StreamOptions

OPTS = StreamOptions()
PAYLOAD = OPTS.max_message_size
WINDOW = OPTS.max_window_size
#: Our receiver held to what Java's receiver accepts: 130 packets out of order (one more
#: packet slot and MTU are kept for the packet that fills the gap, ``flow.py``), beyond that
#: a choke and a drop; the sequence window as wide as options allow (Java has none: a
#: packet past ``receive_window`` would be dropped without a choke, which Java never does).
JAVA_LIMITS = StreamOptions(
    receive_window=255, receive_buffer_packets=131, receive_buffer_size=131 * PAYLOAD
)
BDP = WINDOW * PAYLOAD  # bytes per RTT at the ceiling
#: Path bytes of a full data packet: 22-byte header, payload, stored-gzip wrapper.
WIRE_PACKET = 22 + PAYLOAD + WIRE_OVERHEAD
MB = 1_000_000
REAL_SECONDS = 20.0
JITTER = 0.05  # default jitter: this fraction of the one-way delay, uniform +/-

Metrics = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Cell:
    """One measurement: ``streams`` flows of ``size`` bytes over ``path``.

    ``kind``: "bulk" (shares, completion), "connect" (size 0: connect success within the
    connect timeout), "timed" (unbounded flow, measured over ``limit`` seconds). ``limit`` is
    the simulated-time cap; ``seeds`` the runs.
    """

    name: str
    path: PathSpec
    streams: int = 1
    size: int = 0
    limit: float = 600.0
    seeds: int = 1
    kind: str = "bulk"
    note: str = ""


def _path(rtt: float, loss: float = 0.0, **kw: Any) -> PathSpec:
    return PathSpec(rtt, loss, jitter=kw.pop("jitter", JITTER * rtt / 2), **kw)


def cells(seeds: int, quick: bool) -> list[Cell]:
    """The full (or quick) simulated set; ``seeds`` runs per cell with random loss."""
    out: list[Cell] = []
    k = 320  # single-stream transfers: this many BDPs (74 MB), past the 64-RTT ramp at 25 %
    rtts = (0.3,) if quick else (0.3, 0.6, 1.2)
    losses = (0.0, 0.01, 0.03) if quick else (0.0, 0.01, 0.03, 0.05)
    for rtt in rtts:
        for loss in losses:
            limit = max(600.0, 25 * k * rtt)
            n = seeds if loss else 1
            name = f"rtt{round(rtt * 1000)}-loss{round(loss * 100)}"
            out.append(Cell(name, _path(rtt, loss), 1, k * BDP, limit, n))
    if not quick:
        for loss in (0.0, 0.01):
            out.append(
                Cell(
                    f"rtt300-loss{round(loss * 100)}-nojitter",
                    PathSpec(0.3, loss),
                    1,
                    k * BDP,
                    25 * k * 0.3,
                    seeds if loss else 1,
                    note="no jitter: every RTT sample equal",
                )
            )
    cap = _path(0.3, rate=200_000.0, queue_bytes=30 * WIRE_PACKET)
    big = 20 * MB
    out.append(Cell("bottleneck-200k-q30", cap, 1, big, 1200, seeds, note="rtt 300 ms"))
    if not quick:
        out.append(Cell("bottleneck-200k-q30-loss1", replace(cap, loss=0.01), 1, big, 1200, seeds))
        out.append(Cell("par8-bottleneck-200k-q30", cap, 8, 1 * MB, 1200, seeds))
    out.append(Cell("par8-loss1", _path(0.3, 0.01), 8, 1 * MB, 600, seeds, note="no cap"))
    # 100 streams, nothing lost: a shared FIFO deep enough never to drop. "local" models the
    # embedded router without delay (a CPU-bound FIFO with back-pressure, ~2 ms RTT).
    deep = 64 << 20
    local = PathSpec(0.002, jitter=0.0005, rate=20_000_000.0, queue_bytes=deep)
    out.append(Cell("par100-local", local, 100, 1 * MB, 600, seeds, note="20 MB/s FIFO"))
    if not quick:
        shared = _path(0.3, rate=2_000_000.0, queue_bytes=deep)
        out.append(Cell("par100-cap2M", shared, 100, 1 * MB, 600, seeds, note="deep FIFO"))
        out.append(Cell("par100-free", _path(0.3), 100, 1 * MB, 600, 1, note="no cap"))
    out.append(
        Cell("loss30-1MB", _path(0.3, 0.30), 1, 1 * MB, 3600, 10 if quick else 100, note="both")
    )
    syn = PathSpec(0.3, jitter=JITTER * 0.15, syn_loss=0.5)
    out.append(Cell("syn-loss50", syn, 20 if quick else 100, 0, 120, seeds, "connect"))
    if not quick:
        out.append(Cell("whole-20MB-rtt600", _path(0.6), 1, 20 * MB, 1200, 1))
    return out


def real_cells() -> list[Cell]:
    """Real-time cells (and their simulated mirrors): ``REAL_SECONDS`` of one stream."""
    out = [
        Cell(f"real-rtt300-loss{round(p * 100)}", _path(0.3, p), 1, 1 << 40, REAL_SECONDS, 1)
        for p in (0.0, 0.01, 0.03)
    ]
    # as the table was measured: no configured jitter (the router adds its own)
    nojit = PathSpec(0.3, 0.01)
    out.append(Cell("real-rtt300-loss1-nojitter", nojit, 1, 1 << 40, REAL_SECONDS, 1))
    return out


# ------------------------------------------------------------------------- metrics
def ceiling_of(cell: Cell, mtu: int = PAYLOAD) -> float:
    per_rtt = cell.streams * WINDOW * mtu / cell.path.rtt
    return per_rtt if cell.path.rate is None else min(per_rtt, cell.path.rate)


def _java_limits(name: str) -> Any:
    """A listening receiver with :data:`JAVA_LIMITS` (seeded as the default receiver)."""
    import random

    from i2p_streaming.streaming import StreamManager

    def server(keys: Any) -> StreamManager:
        m = StreamManager(keys, JAVA_LIMITS, rng=random.Random(f"server:{name}"))
        m.listen(0, backlog=1024)
        return m

    return server


def run_sim(cell: Cell, seed: int, peer: str = "ours") -> Metrics:
    """One simulated run of ``cell`` (``peer``, the receiver: ``ours``, ``java-rules`` or
    ``java-limits``, ours with :data:`JAVA_LIMITS`)."""
    server = None
    if peer == "java-rules":
        from tests.support.javapeer import JavaReceiver

        server = JavaReceiver
    elif peer == "java-limits":
        server = _java_limits(f"{cell.name}:{seed}")
    flows = [Flow(cell.size) for _ in range(cell.streams)]
    sampler = Sampler(WINDOW)
    stall = max(1.0, 3 * cell.path.rtt)
    single = cell.streams == 1
    sim = Simulation(
        cell.path,
        flows,
        f"{cell.name}:{seed}",
        stall_gap=stall,
        sample_every=cell.path.rtt if single else None,
        on_sample=sampler if single else None,
        server=server,
    )
    cpu0 = time.process_time()
    sim.run(cell.limit)
    cpu = time.process_time() - cpu0
    m: Metrics = {
        "seed": seed,
        "cpu_s": rounded(cpu, 2),
        "simulated_s": rounded(sim.now, 1),
        "stopped_by": sim.stop_reason,
    }
    if cell.kind == "connect":
        return m | connect_metrics(cell, flows)
    stats = [sim.client.stats(f.sid) for f in flows if f.sid]
    mtu = stats[0].mtu if stats else PAYLOAD
    ceiling = ceiling_of(cell, mtu)
    delivered = sum(f.received for f in flows)
    completed = all(f.done_at is not None for f in flows)
    end = max((f.done_at or sim.now) for f in flows)
    sent = sum(s.packets_sent for s in stats)
    resent = sum(s.packets_retransmitted for s in stats)
    c = sim.counts[0]
    fwd = sim.engine.counters(sim.client.destination.hash, sim.server.destination.hash)
    rev = sim.engine.counters(sim.server.destination.hash, sim.client.destination.hash)
    m |= {
        "completed": completed,
        "failed": sorted({f.failed for f in flows if f.failed}),
        "bytes_delivered": delivered,
        "payload_per_packet": mtu,
        "ceiling_Bps": round(ceiling),
        "retransmitted": resent,
        "data_packets": sent,
        "retrans_ratio": rounded(resent / sent if sent else 0.0, 4),
        "unneeded_retrans": c.unneeded,
        "retrans_after_timer": c.resent_after_timer,
        "dropped_fwd": fwd.dropped,
        "dropped_rev": rev.dropped,
        "tail_drops": fwd.overflow + rev.overflow,
        "internal_errors": sum(x.counters.get("internal_error", 0) for x in sim.managers),
    }
    if cell.kind == "timed":
        half = cell.limit / 2
        m["bytes_by_limit"] = delivered
        m["share_whole"] = rounded(delivered / cell.limit / ceiling)
        m["share_second_half"] = rounded(
            window_bytes(sim.arrival_t, sim.arrival_n, half, cell.limit) / half / ceiling
        )
        m["window_end"] = stats[0].window if stats else None
        return m
    total = cell.size * cell.streams
    m["whole_share"] = rounded(delivered / end / ceiling) if end > 0 else None
    m |= timeline_metrics(sim.arrival_t, sim.arrival_n, total, ceiling, cell.path.rtt, end)
    done = [f.done_at - f.start for f in flows if f.done_at is not None]
    if done:
        m["completion_p50_s"] = rounded(quantile(done, 0.5), 2)
        m["completion_p99_s"] = rounded(quantile(done, 0.99), 2)
        m["completion_max_s"] = rounded(max(done), 2)
        if len(flows) > 1:
            m["slowest_fastest"] = rounded(max(done) / min(done), 2)
    gaps = [g for f in flows for g in f.gaps]
    m["stalls"] = len(gaps)
    m["max_gap_s"] = rounded(max(f.max_gap for f in flows), 2)
    if sim.silence is not None:
        m["send_silence_max_s"] = rounded(sim.silence.longest, 3)
        m["send_silence_rto"] = rounded(sim.silence.ratio, 3)
    if single:
        m |= sampler.summary(m.get("t25_s"), m.get("t90_s"))
    return m


def connect_metrics(cell: Cell, flows: list[Flow]) -> Metrics:
    timeout = OPTS.connect_timeout
    ok = [f.established_at - f.start for f in flows if f.established_at is not None]
    ok_in_time = [x for x in ok if x <= timeout]
    return {
        "connects": len(flows),
        "succeeded": len(ok_in_time),
        "failed": len(flows) - len(ok_in_time),
        "connect_p50_s": rounded(quantile(ok, 0.5), 2) if ok else None,
        "connect_p99_s": rounded(quantile(ok, 0.99), 2) if ok else None,
        "connect_max_s": rounded(max(ok), 2) if ok else None,
    }


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def summarise(cell: Cell, runs: list[Metrics]) -> Metrics:
    """Median / min / max over the runs of one cell."""
    out: Metrics = {
        "rtt_s": cell.path.rtt,
        "loss": cell.path.loss,
        "jitter_s": rounded(cell.path.jitter, 4),
        "rate_Bps": cell.path.rate,
        "queue_bytes": cell.path.queue_bytes if cell.path.rate else None,
        "syn_loss": cell.path.syn_loss,
        "streams": cell.streams,
        "bytes_per_stream": cell.size if cell.kind != "timed" else None,
        "limit_s": cell.limit,
        "kind": cell.kind,
        "note": cell.note,
        "runs": len(runs),
    }
    if cell.kind == "bulk":
        out["completed_runs"] = sum(1 for r in runs if r["completed"])
    keys = dict.fromkeys(k for r in runs for k in r)  # every key of any run, in order
    for key in keys:
        vals = [r[key] for r in runs if _number(r.get(key))]
        if key == "seed" or not vals:
            continue
        if len(runs) == 1:
            out[key] = vals[0]
        else:
            out[key] = {
                "median": rounded(statistics.median(vals), 4),
                "min": min(vals),
                "max": max(vals),
            }
    out["per_run"] = runs
    return out


# ------------------------------------------------------------------------- real time
async def _real_run(cell: Cell, seed: int) -> Metrics:
    from i2p_streaming.aio import create_session
    from i2p_streaming.router import EmbeddedRouter

    loop = asyncio.get_running_loop()
    t_arr: array[float] = array("d")
    n_arr: array[int] = array("q")
    t0 = 0.0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(1 << 20):
                t_arr.append(loop.time() - t0)
                n_arr.append(len(data))
        except ConnectionError:
            pass  # the sender aborts (RESET) at the horizon

    async with EmbeddedRouter(impairments=cell.path.impairments(), seed=seed) as router:
        host, port = router.address
        addr = f"{host}:{port}"
        async with create_session(addr) as rs, create_session(addr) as ss:
            await rs.start_server(handle, 7)
            t0 = loop.time()
            _, writer = await ss.open_connection(rs.destination, 7, timeout=60)
            block = bytes(range(256)) * 256

            async def pump() -> None:
                while True:
                    writer.write(block)
                    await writer.drain()

            task = loop.create_task(pump())
            await asyncio.sleep(max(0.0, t0 + cell.limit - loop.time()))  # the horizon
            st = writer.get_extra_info("stats")
            dropped = router.counters().dropped  # at the horizon (the abort drops more)
            task.cancel()
            writer.transport.abort()
    ceiling = ceiling_of(cell)
    got = sum(n_arr)
    half = cell.limit / 2
    sent = st.packets_sent if st else 0
    return {
        "seed": seed,
        "bytes_by_limit": got,
        "share_whole": rounded(got / cell.limit / ceiling),
        "share_second_half": rounded(window_bytes(t_arr, n_arr, half, cell.limit) / half / ceiling),
        "retransmitted": st.packets_retransmitted if st else None,
        "data_packets": sent,
        "retrans_ratio": rounded(st.packets_retransmitted / sent, 4) if st and sent else None,
        "window_end": st.window if st else None,
        "rtt_end_s": rounded(st.rtt) if st and st.rtt else None,
        "dropped": dropped,
    }


def run_real(seeds: int) -> dict[str, Metrics]:
    out: dict[str, Metrics] = {}
    for cell in real_cells():
        timed = replace(cell, kind="timed")
        real = [asyncio.run(_real_run(timed, s)) for s in range(1)]
        sims = [run_sim(timed, s) for s in range(max(seeds, 3))]
        out[cell.name] = {"real": summarise(timed, real), "simulated": summarise(timed, sims)}
        log(
            f"{cell.name}: real {_fmt(real[0], 'share_second_half')} vs simulated "
            f"{_fmt(out[cell.name]['simulated'], 'share_second_half')} (share, 2nd half)"
        )
    return out


# ------------------------------------------------------------------------- output
def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


#: Metrics where larger is better: the table shows median/min for them, median/max otherwise.
_HIGHER_BETTER = {
    "steady_share",
    "whole_share",
    "share_whole",
    "share_second_half",
    "window_p50",
    "succeeded",
}


def _fmt(m: Metrics, key: str) -> str:
    v = m.get(key)
    if isinstance(v, dict):
        worst = v["min"] if key in _HIGHER_BETTER else v["max"]
        return f"{v['median']:g}/{worst:g}"
    return "-" if v is None else f"{v:g}"


COLUMNS = (
    ("steady", "steady_share"),
    ("whole", "whole_share"),
    ("ramp_s", "ramp_s"),
    ("rtx", "retrans_ratio"),
    ("unneeded", "unneeded_retrans"),
    ("p50_s", "completion_p50_s"),
    ("p99_s", "completion_p99_s"),
    ("slow/fast", "slowest_fastest"),
    ("maxgap", "max_gap_s"),
    ("sil/rto", "send_silence_rto"),
    ("win50", "window_p50"),
    ("rtomax", "rto_max_s"),
)


def table(results: dict[str, Metrics]) -> str:
    lines = ["cell".ljust(28) + " ok  " + "  ".join(h.rjust(11) for h, _ in COLUMNS)]
    for name, m in results.items():
        if m["kind"] == "connect":
            lines.append(
                f"{name:28} {_fmt(m, 'succeeded')} of {m['streams']} connected within "
                f"{OPTS.connect_timeout:g} s (p50 {_fmt(m, 'connect_p50_s')} s, "
                f"max {_fmt(m, 'connect_max_s')} s)"
            )
            continue
        ok = f"{m['completed_runs']}/{m['runs']}"
        lines.append(f"{name:28} {ok:4} " + "  ".join(_fmt(m, k).rjust(11) for _, k in COLUMNS))
    lines.append("(median/worst over runs: min for shares and win50, max otherwise)")
    return "\n".join(lines)


def _median(value: object) -> float | None:
    """A summarised metric's median (a bare number for a one-run cell)."""
    if isinstance(value, dict):
        value = value.get("median")
    return float(value) if isinstance(value, int | float) else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a subset (< 60 s of CPU)")
    parser.add_argument("--real", action="store_true", help="also the real-time set")
    parser.add_argument("--cells", default="", help="comma-separated cell names")
    parser.add_argument("--seeds", type=int, default=3, help="runs per lossy cell (3)")
    parser.add_argument("--json", default="", help="write JSON here (default stdout)")
    parser.add_argument("--list", action="store_true", help="list the cells and exit")
    parser.add_argument(
        "--peer",
        choices=("ours", "java-rules", "java"),
        default="ours",
        help="java-rules: also run each cell into a receiver with Java's ack rules; "
        "java: only the real Java I2P library on the embedded router (JAVA_I2P_HOME)",
    )
    parser.add_argument("--java-size", type=int, default=2 * MB, help="bytes per Java transfer")
    parser.add_argument("--java-limit", type=float, default=30.0, help="seconds per transfer")
    args = parser.parse_args(argv)
    if args.peer == "java":
        import pathsjava

        return pathsjava.main(parser, args, log)
    chosen = cells(args.seeds, args.quick)
    if args.list:
        for c in chosen:
            print(c.name)
        return
    if args.cells:
        want = set(args.cells.split(","))
        other = cells(args.seeds, not args.quick)
        pool = {c.name: c for c in other + chosen}  # this mode's version wins
        unknown = want - set(pool)
        if unknown:
            parser.error(f"unknown cells: {', '.join(sorted(unknown))}")
        chosen = [pool[n] for n in args.cells.split(",")]
    cpu0 = time.process_time()
    results: dict[str, Metrics] = {}
    for cell in chosen:
        c0 = time.process_time()
        results[cell.name] = summarise(cell, [run_sim(cell, s) for s in range(cell.seeds)])
        log(f"{cell.name}: {time.process_time() - c0:.1f} s CPU")
    java: dict[str, Metrics] = {}
    limits: dict[str, Metrics] = {}
    if args.peer == "java-rules":
        for cell in chosen:
            if cell.kind == "connect" or cell.streams > 1:
                continue  # the model accepts streams, but these cells measure our receiver
            c0 = time.process_time()
            java[cell.name] = summarise(
                cell, [run_sim(cell, s, "java-rules") for s in range(cell.seeds)]
            )
            limits[cell.name] = summarise(
                cell, [run_sim(cell, s, "java-limits") for s in range(cell.seeds)]
            )
            for key in ("steady_share", "whole_share"):
                java_share = _median(java[cell.name].get(key))
                for label, against in (("ours", results), ("same_limits", limits)):
                    base = _median(against[cell.name].get(key))
                    if base and java_share:
                        java[cell.name][f"{key.split('_')[0]}_vs_{label}"] = rounded(
                            java_share / base
                        )
            log(f"{cell.name} (java-rules, java-limits): {time.process_time() - c0:.1f} s CPU")
    sim_cpu = time.process_time() - cpu0
    report: Metrics = {
        "benchmark": "paths",
        "date": time.strftime("%Y-%m-%d"),
        "mode": "quick" if args.quick else "full",
        "max_window": WINDOW,
        "payload_per_packet": PAYLOAD,
        "jitter": f"uniform +/- {JITTER:g} x one-way delay unless stated, FIFO",
        "simulated_cpu_s": round(sim_cpu, 1),
        "cells": results,
    }
    log(table(results))
    if java:
        report["cells_java_rules"] = java
        report["cells_java_limits"] = limits
        log("into the Java-rules receiver (tests/support/javapeer.py), same paths and seeds:")
        log(table(java))
        log("into our receiver with Java's acceptance limits (JAVA_LIMITS), same paths and seeds:")
        log(table(limits))
        log("Java-rules / ours and / same-limit receiver (steady, whole):")
        for name, m in java.items():
            ratios = [m.get(k) for k in ("steady_vs_ours", "whole_vs_ours")]
            ratios += [m.get(k) for k in ("steady_vs_same_limits", "whole_vs_same_limits")]
            log(f"{name:28} " + "  ".join("-" if r is None else f"{r:.3f}" for r in ratios))
    if args.real:
        report["real"] = run_real(args.seeds)
    text = json.dumps(report, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    else:
        print(text)
    log(f"simulated set: {sim_cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
