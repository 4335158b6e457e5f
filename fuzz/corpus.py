"""Seed corpora and kept crashing inputs, as files under ``fuzz/``.

``fuzz/seeds/<target>/<name>``: small valid (or interesting) inputs, written by
:mod:`fuzz.make_seeds`. ``fuzz/regressions/<target>/<name>``: inputs that once broke a target
(libFuzzer's ``crash-``/``timeout-``/``oom-<sha1>`` names). A regression whose bug is not fixed
yet has a sidecar ``<name>.xfail`` holding the reason; the regression test then expects it to
fail (strictly), so the fix shows up as an XPASS to remove the sidecar.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "FUZZ_DIR",
    "REGRESSIONS_DIR",
    "SEEDS_DIR",
    "XFAIL_SUFFIX",
    "regression_files",
    "seed_files",
    "xfail_reason",
]

FUZZ_DIR = Path(__file__).resolve().parent
SEEDS_DIR = FUZZ_DIR / "seeds"
REGRESSIONS_DIR = FUZZ_DIR / "regressions"
XFAIL_SUFFIX = ".xfail"
_NOT_INPUTS = {"README.md", ".gitkeep"}


def _inputs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.name not in _NOT_INPUTS and p.suffix != XFAIL_SUFFIX
    )


def seed_files(target: str) -> list[Path]:
    """The seed inputs of ``target`` (sorted by name)."""
    return _inputs(SEEDS_DIR / target)


def regression_files(target: str, root: Path = REGRESSIONS_DIR) -> list[Path]:
    """The kept crashing inputs of ``target`` (sorted by name), sidecars left out."""
    return _inputs(root / target)


def xfail_reason(path: Path) -> str | None:
    """The reason recorded next to a regression input whose bug is still open, else None."""
    sidecar = path.with_name(path.name + XFAIL_SUFFIX)
    if not sidecar.is_file():
        return None
    return sidecar.read_text(encoding="utf-8").strip() or "known parser bug"
