"""The matrix table printed at the end, and its JSON form."""

from __future__ import annotations

import json
import platform
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tests.reliability.runner import CellResult

__all__ = ["format_table", "summary", "write_json"]


def _size(n: int) -> str:
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f}{unit}"
    return f"{n}B"


def _drops(router: dict[str, int]) -> str:
    if "dropped" not in router:
        return "-"
    overflow = router.get("overflow", 0)
    return f"{router['dropped']}" + (f" ({overflow} ovfl)" if overflow else "")


def format_table(results: Sequence[CellResult]) -> str:
    """One row per cell (outcome, bytes, seconds, goodput, retransmissions, router drops and
    of them tail drops of a full receiver queue),
    then the errors and diagnoses of the cells that have any, then the summary line."""
    header = ("cell", "network", "outcome", "bytes", "secs", "goodput", "retx", "drop")
    rows = [header]
    for r in results:
        rows.append(
            (
                r.name,
                r.description,
                r.outcome,
                f"{_size(r.bytes)}/{_size(r.expected_bytes)}",
                f"{r.seconds:.1f}",
                f"{r.goodput / 1e6:.2f}MB/s",
                "-" if r.retransmissions is None else str(r.retransmissions),
                _drops(r.router),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = []
    for r in results:
        if r.error or r.detail or r.known_defect:
            notes.append(f"{r.name} [{r.outcome}, expected {r.expected}]")
            if r.error:
                notes.append(f"    {r.error}")
            notes.extend(f"    {d}" for d in r.detail)
            if r.known_defect:
                notes.append(f"    known defect: {r.known_defect}")
    if notes:
        lines += ["", *notes]
    lines += ["", summary(results)]
    return "\n".join(lines)


def summary(results: Sequence[CellResult]) -> str:
    """``N cells: ok A, expected-error B, CORRUPTED 0, HANG 0, ...`` (failures always)."""
    counts = Counter(r.outcome for r in results)
    names = ["ok", "expected-error", "CORRUPTED", "HANG", "UNEXPECTED-ERROR", "UNEXPECTED-OK"]
    parts = [f"{name} {counts.get(name, 0)}" for name in names]
    total = sum(r.seconds for r in results)
    return f"{len(results)} cells ({total:.0f} s of transfers): " + ", ".join(parts)


def write_json(path: Path, results: Sequence[CellResult], *, quick: bool, wall: float) -> None:
    """Write the results (and the run's context) to ``path``."""
    doc = {
        "matrix": "quick" if quick else "full",
        "wall_seconds": round(wall, 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "summary": summary(results),
        "cells": [r.to_json() for r in results],
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")
