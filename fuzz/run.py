"""Run fuzz targets with atheris (libFuzzer), one target per process, one after another.

Usage (from the repository root, ``PYTHONPATH=src``)::

    python -m fuzz.run --seconds 60               # every target, 60 s each
    python -m fuzz.run --seconds 600 packet       # one target, 10 minutes
    python -m fuzz.run --engine mutate ...        # no atheris: the built-in mutator

libFuzzer reads ``fuzz/seeds/<target>/`` (never written) and keeps what it learns in
``.fuzz-corpus/<target>/`` (git-ignored, reused by the next run). A crashing, hanging (over
``--timeout`` seconds per input) or memory-hungry (over ``--rss-limit-mb``) input is written to
``fuzz/regressions/<target>/crash-|timeout-|oom-<sha1>``; commit it, and the regression test
runs it on every ``make test``. The exit status is non-zero when any target found something.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import os
import random
import re
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any

from fuzz.corpus import FUZZ_DIR, REGRESSIONS_DIR, SEEDS_DIR

__all__ = ["main"]

WORK_CORPUS = FUZZ_DIR.parent / ".fuzz-corpus"
_STAT = re.compile(r"stat::(\w+):\s*(\d+)")
_DONE = re.compile(r"DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)/")


@dataclass(frozen=True, slots=True)
class Summary:
    """What one target's run reported."""

    target: str
    seconds: float
    executions: int
    exec_per_sec: int
    peak_rss_mb: int
    coverage: str
    new_files: list[str]
    status: int


def _atheris() -> Any:
    """Import atheris (it has no type information: kept as ``Any`` in this one place)."""
    return importlib.import_module("atheris")


def _run_atheris_in_process(target: str, args: argparse.Namespace) -> None:
    atheris = _atheris()
    with atheris.instrument_imports(include=["i2p_streaming", "fuzz"]):
        from fuzz.targets import TARGETS
    spec = TARGETS[target]
    work = WORK_CORPUS / target
    work.mkdir(parents=True, exist_ok=True)
    artifacts = REGRESSIONS_DIR / target
    artifacts.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.argv[0],
        f"-max_total_time={args.seconds}",
        f"-timeout={args.timeout}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        f"-max_len={spec.max_len}",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
        str(work),
        str(SEEDS_DIR / target),
    ]
    atheris.Setup(argv, spec.one_input)
    atheris.Fuzz()


def _run_mutate_in_process(target: str, args: argparse.Namespace) -> None:
    """The no-atheris engine: seeded random mutation for the given time (no coverage)."""
    from fuzz.corpus import seed_files
    from fuzz.mutate import mutants
    from fuzz.targets import TARGETS

    spec = TARGETS[target]
    seeds = [p.read_bytes() for p in seed_files(target)]
    deadline = time.monotonic() + args.seconds
    runs = 0
    rng_seed = random.SystemRandom().randrange(1 << 32)
    print(f"#mutate seed {rng_seed}", flush=True)
    for data in mutants(seeds, 1 << 62, rng_seed, spec.max_len):
        try:
            spec.one_input(data)
        except Exception:
            name = "crash-" + hashlib.sha1(data).hexdigest()
            folder = REGRESSIONS_DIR / target
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
            traceback.print_exc()
            print(f"==ERROR== crashing input written to {folder / name}", flush=True)
            raise SystemExit(1) from None
        runs += 1
        if runs % 256 == 0 and time.monotonic() >= deadline:
            break
    secs = max(args.seconds, 1)
    print(f"stat::number_of_executed_units: {runs}", flush=True)
    print(f"stat::average_exec_per_sec: {runs // secs}", flush=True)


def _regressions(target: str) -> set[str]:
    folder = REGRESSIONS_DIR / target
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _run_child(target: str, args: argparse.Namespace) -> Summary:
    before = _regressions(target)
    cmd = [sys.executable, "-m", "fuzz.run", "--in-process", "--engine", args.engine]
    cmd += ["--seconds", str(args.seconds), "--timeout", str(args.timeout)]
    cmd += ["--rss-limit-mb", str(args.rss_limit_mb), target]
    print(f"=== {target}: {args.engine}, {args.seconds} s", flush=True)
    start = time.monotonic()
    root = FUZZ_DIR.parent
    path = os.pathsep.join([str(root / "src"), str(root), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.run(
        cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    elapsed = time.monotonic() - start
    log = proc.stdout
    stats = {k: int(v) for k, v in _STAT.findall(log)}
    done = _DONE.findall(log)
    coverage = "{}/{}/{}".format(*done[-1]) if done else "-"
    tail = [line for line in log.splitlines() if "ERROR" in line or "Traceback" in line]
    if proc.returncode != 0:
        print(log[-8000:], flush=True)
    elif tail:
        print("\n".join(tail), flush=True)
    return Summary(
        target,
        elapsed,
        stats.get("number_of_executed_units", 0),
        stats.get("average_exec_per_sec", 0),
        stats.get("peak_rss_mb", 0),
        coverage,
        sorted(_regressions(target) - before),
        proc.returncode,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz the parsers (see docs/fuzzing.md).")
    parser.add_argument("targets", nargs="*", help="default: every target")
    parser.add_argument("--seconds", type=int, default=60, help="time per target")
    parser.add_argument(
        "--engine",
        choices=("auto", "atheris", "mutate"),
        default="auto",
        help="auto: atheris when it is installed, else the built-in mutator",
    )
    parser.add_argument("--timeout", type=int, default=10, help="seconds per input = a hang")
    parser.add_argument("--rss-limit-mb", type=int, default=2048)
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine == "auto":
        args.engine = "atheris" if importlib.util.find_spec("atheris") else "mutate"
    if args.in_process:  # the child: import the targets only now (instrumented for atheris)
        (target,) = args.targets
        if args.engine == "atheris":
            _run_atheris_in_process(target, args)
        else:
            _run_mutate_in_process(target, args)
        return 0
    from fuzz.targets import TARGETS

    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s): {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    summaries = [_run_child(t, args) for t in args.targets or list(TARGETS)]
    print("\n(cov/ft/corp: libFuzzer's edges, features and corpus size at the end)")
    head = f"{'target':<18} {'secs':>6} {'execs':>11} {'exec/s':>8} {'rss MB':>7}"
    print(f"{head} {'cov/ft/corp':>15}  result")
    for s in summaries:
        found = ", ".join(s.new_files) if s.new_files else ("ok" if s.status == 0 else "FAILED")
        print(
            f"{s.target:<18} {s.seconds:6.0f} {s.executions:11d} {s.exec_per_sec:8d} "
            f"{s.peak_rss_mb:7d} {s.coverage:>15}  {found}"
        )
    return 1 if any(s.status or s.new_files for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
