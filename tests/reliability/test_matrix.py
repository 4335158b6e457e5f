"""The short reliability matrix in ``make test``: one test per cell of ``cells.QUICK``.

A cell fails on CORRUPTED, HANG, an unexpected error or an unexpected success. A cell that
fails today because of a known defect is ``xfail(strict=True)``: it turns into a failure
(XPASS) once the defect is fixed, and a corruption still fails it (``raises=CellFailed``
covers only the other outcomes).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.reliability.cells import QUICK, Cell
from tests.reliability.report import format_table
from tests.reliability.runner import run_cell


class CellFailed(AssertionError):
    """The cell hung, raised an unexpected error or succeeded unexpectedly (not corrupted)."""


def _param(cell: Cell) -> Any:
    # the wall-clock limits of the cell are enforced by the runner; this is the backstop
    marks: list[Any] = [pytest.mark.timeout(cell.limit + cell.close_limit + 30)]
    if cell.known_defect is not None:
        marks.append(pytest.mark.xfail(strict=True, raises=CellFailed, reason=cell.known_defect))
    return pytest.param(cell, id=cell.name, marks=marks)


@pytest.mark.parametrize("cell", [_param(c) for c in QUICK])
async def test_cell(cell: Cell) -> None:
    result = await run_cell(cell)
    if result.outcome == "CORRUPTED":
        raise AssertionError(format_table([result]))
    if not result.passed:
        raise CellFailed(format_table([result]))
    if not cell.expect:  # cross-check of the verifiers: every byte of every stream counted
        assert result.bytes == result.expected_bytes
