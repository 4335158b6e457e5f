"""The SYN / SYN-reply schedule under handshake-only loss (issue 12); prints JSON.

    python benchmarks/synloss.py [--cell-seeds N] [--lone N] [--loss P] [--json FILE]

* ``schedule``: when a SYN goes while no RTT is known, read off the core itself (a manager
  whose SYNs all vanish, driven by its own timer until the connect timeout);
* ``analytic``: the probability that a connect fails when each SYN and each SYN reply is
  lost with probability ``P`` independently (300 ms RTT, 60 s connect timeout). A try
  connects when its SYN and a reply get through; the responder answers the first SYN that
  arrives, resends its reply on the same schedule from its own timer and at once on each
  repeated SYN. With the first SYN through at try k (probability P^k (1 - P)), the connect
  fails when its R_k timer replies and every later try fail: P^R_k (1 - (1 - P)^2)^(n-1-k);
  plus P^n (every SYN lost). The model ignores the responder's half-open timeout (30 s
  after the client's latest SYN) and jitter;
* ``measured``: the ``syn-loss50`` cell of ``paths.py`` (100 connects at once to one peer,
  which share its RTT estimate) for ``--cell-seeds`` seeds, and ``--lone`` single connects
  (no sibling's RTT sample: the schedule above), with the SYN copies per connect.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from pathsim import Flow, Simulation, quantile, rounded

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import StreamManager, StreamOptions
from i2p_streaming.streaming.recovery import MAX_SYN_RTO

OPTS = StreamOptions()
HALF_RTT = 0.15


def schedule(opts: StreamOptions = OPTS) -> list[float]:
    """The SYN send times of one connect whose SYNs are all lost (from the core)."""
    keys, peer = PrivateKeys.generate(), PrivateKeys.generate()
    m = StreamManager(keys, opts)
    m.connect(peer.destination, now=0.0)
    sent: list[float] = []
    now = 0.0
    while now <= opts.connect_timeout:
        sent.extend(now for p in m.payloads_to_send(now) if p.is_syn)
        timer = m.get_timer()
        if timer is None:
            break
        now = timer
        m.handle_timer(now)
    return sent


def p_fail(tries: list[float], loss: float, timeout: float = OPTS.connect_timeout) -> float:
    """The analytic failure probability (module docstring) for SYNs at ``tries``."""
    ok = 1.0 - loss
    n = len(tries)
    total = loss**n
    for k, first in enumerate(tries):
        # the responder's timer replies: the same schedule from the SYN's arrival
        replies = sum(1 for t in tries if first + 2 * HALF_RTT + t <= timeout)
        later = sum(1 for t in tries[k + 1 :] if t + 2 * HALF_RTT <= timeout)
        total += loss**k * ok * loss**replies * (1.0 - ok * ok) ** later
    return total


def measure(streams: int, seeds: int, loss: float) -> dict[str, Any]:
    """``seeds`` runs of ``streams`` connects at once over the syn-loss path."""
    from paths import cells  # the cell as paths.py defines it

    cell = next(c for c in cells(1, False) if c.name == "syn-loss50")
    path = replace(cell.path, syn_loss=loss)
    failed = syns = replies = 0
    times: list[float] = []
    for seed in range(seeds):
        flows = [Flow(0) for _ in range(streams)]
        sim = Simulation(path, flows, f"{cell.name}:{seed}")
        sim.run(cell.limit)
        for f in flows:
            at = None if f.established_at is None else f.established_at - f.start
            if at is None or at > OPTS.connect_timeout:
                failed += 1
            else:
                times.append(at)
        client, server = sim.counts  # connect only: every sequenced packet is a SYN
        syns += client.first + client.resent
        replies += server.first + server.resent
    n = streams * seeds
    return {
        "connects": n,
        "failed": failed,
        "failed_frac": failed / n,
        "syns_per_connect": rounded(syns / n, 3),
        "replies_per_connect": rounded(replies / n, 3),
        "connect_p50_s": rounded(quantile(times, 0.5), 2) if times else None,
        "connect_p99_s": rounded(quantile(times, 0.99), 2) if times else None,
        "connect_max_s": rounded(max(times), 2) if times else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cell-seeds", type=int, default=100, help="runs of 100 connects")
    parser.add_argument("--lone", type=int, default=2000, help="single connects")
    parser.add_argument("--loss", type=float, default=0.5, help="handshake loss (0.5)")
    parser.add_argument("--json", default="", help="write JSON here (default stdout)")
    args = parser.parse_args(argv)
    cpu0 = time.process_time()
    tries = schedule()
    report: dict[str, Any] = {
        "benchmark": "synloss",
        "date": time.strftime("%Y-%m-%d"),
        "initial_rto_s": OPTS.initial_rto,
        "max_syn_rto_s": MAX_SYN_RTO,
        "connect_timeout_s": OPTS.connect_timeout,
        "loss": args.loss,
        "schedule_s": [rounded(t, 3) for t in tries],
        "analytic_failed_frac": p_fail(tries, args.loss),
        "cell": measure(100, args.cell_seeds, args.loss),
        "lone": measure(1, args.lone, args.loss),
    }
    report["cpu_s"] = round(time.process_time() - cpu0, 1)
    text = json.dumps(report, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
