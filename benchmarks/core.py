"""Bulk-transfer benchmark of the sans-I/O streaming core (no sockets, no gzip, no loss).

Two StreamManagers exchange raw streaming packets over the in-memory fake link used by the
tests (fixed one-way delay, simulated clock). One stream carries ``--mb`` MiB in 1730-byte
payload packets. Prints JSON: goodput in MB/s of CPU time, packets/s, CPU seconds per MB.

    python benchmarks/core.py [--mb 64] [--delay 0.01] [--jitter 0.0] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.link import FakeLink, Impairment

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import DataReceived, PeerClosed, StreamManager


def run(total: int, delay: float, jitter: float = 0.0) -> dict[str, float]:
    ka, kb = PrivateKeys.generate(), PrivateKeys.generate()
    sender, receiver = StreamManager(ka), StreamManager(kb)
    receiver.listen(0)
    got = 0
    done = False

    def on_event(link: FakeLink, m: StreamManager, ev: object) -> None:
        nonlocal got, done
        if m is receiver and isinstance(ev, DataReceived):
            got += len(ev.data)
        elif m is receiver and isinstance(ev, PeerClosed):
            done = True

    link = FakeLink([sender, receiver], Impairment(delay=delay, jitter=jitter), on_event=on_event)
    chunk = bytes(range(256)) * 256  # 64 KiB writes
    sid = sender.connect(kb.destination, now=0.0)
    written = 0
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    while not done:
        while written < total:
            n = sender.send(sid, chunk[: min(len(chunk), total - written)], link.now)
            if not n:
                break
            written += n
        if written >= total:
            sender.close(sid, link.now)
        if not link.step():
            break
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    assert got == total, (got, total)
    stats = sender.stats(sid)
    mb = total / 1e6
    return {
        "bytes": total,
        "payload_size": stats.mtu,
        "goodput_MBps": round(mb / cpu, 2),
        "goodput_MBps_wall": round(mb / wall, 2),
        "packets_per_s": round(stats.packets_sent / cpu),
        "cpu_s_per_MB": round(cpu / mb, 5),
        "data_packets": stats.packets_sent,
        "retransmitted": stats.packets_retransmitted,
        "packets_delivered_total": link.delivered,
        "simulated_s": round(link.now, 3),
        "final_window": stats.window,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=64.0, help="MiB to transfer")
    parser.add_argument("--delay", type=float, default=0.01, help="one-way delay (simulated s)")
    parser.add_argument(
        "--jitter", type=float, default=0.0, help="random extra delay: packets arrive one by one"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    args = parser.parse_args()
    total = int(args.mb * 1024 * 1024)
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        result = run(total, args.delay, args.jitter)
        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(20)
    else:
        result = run(total, args.delay, args.jitter)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
