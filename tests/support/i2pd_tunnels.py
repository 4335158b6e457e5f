"""i2pd's own tunnels (a ``tunnels.d`` section, loaded on SIGHUP) for tests that need them.

Such a test changes the router's configuration, so it gets an i2pd of its own
(:func:`own_i2pd`, not the shared one: SIGHUP also replaces i2pd's shared local destination
and drops unused ones); :func:`add_tunnel` writes a section and makes i2pd reload. The web
console tells when the tunnel is loaded and when it can be reached
(tests/support/i2pd_console.py).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

from tests.support.i2pd import I2pdInstance, require_i2pd, start_i2pd, stop_i2pd

__all__ = ["add_tunnel", "own_i2pd"]


@contextlib.contextmanager
def own_i2pd(base_dir: Path) -> Iterator[I2pdInstance]:
    """A fresh i2pd (newest flavour) in ``base_dir``, stopped at the end; skips locally or
    fails under CI=true when none is installed (:func:`require_i2pd`)."""
    inst = start_i2pd(require_i2pd(), base_dir)
    try:
        yield inst
    finally:
        stop_i2pd(inst)


def add_tunnel(inst: I2pdInstance, name: str, settings: str) -> None:
    """Write the section ``[name]`` with ``settings`` (``key = value`` lines) into i2pd's
    ``tunnels.d`` and make it reload its tunnels (SIGHUP). ``keys =`` files are read relative
    to ``inst.datadir``."""
    (inst.datadir / "tunnels.d" / f"{name}.conf").write_text(f"[{name}]\n{settings}")
    inst.process.send_signal(signal.SIGHUP)
