"""``python -m tests.reliability [--quick] [--json FILE] [--cells a,b]``: run the matrix.

Each cell runs in its own event loop; a line per cell as it ends, the table at the end.
Exit status 0 when every cell passed (ok or its expected error), 1 otherwise, 2 for usage.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from tests.reliability.cells import FULL, QUICK, cells_by_name
from tests.reliability.report import format_table, write_json
from tests.reliability.runner import CellResult, run_cell


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.reliability", description=__doc__)
    p.add_argument("--quick", action="store_true", help="the short matrix of make test")
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="write results")
    p.add_argument("--cells", default="", metavar="A,B", help="only these cells")
    p.add_argument("--list", action="store_true", help="list the cells and exit")
    args = p.parse_args(argv)
    table = QUICK if args.quick else FULL
    try:
        cells = cells_by_name(table, args.cells)
    except ValueError as exc:
        p.error(str(exc))
    if args.list:
        for c in cells:
            print(f"{c.name:32} {c.describe():40} size {c.size} x{c.streams} limit {c.limit:g}s")
        return 0
    results: list[CellResult] = []
    start = time.monotonic()
    try:
        for n, cell in enumerate(cells, 1):
            print(f"[{n}/{len(cells)}] {cell.name} ({cell.describe()}) ...", end="", flush=True)
            result = asyncio.run(run_cell(cell))
            results.append(result)
            print(f" {result.outcome} in {result.seconds:.1f} s", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
    wall = time.monotonic() - start
    print()
    print(format_table(results))
    print(f"wall time {wall:.0f} s")
    if args.json is not None:
        write_json(args.json, results, quick=args.quick, wall=wall)
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
