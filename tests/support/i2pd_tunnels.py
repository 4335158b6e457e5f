"""i2pd's own tunnels (a ``tunnels.d`` section, loaded on SIGHUP) for tests that need them.

Such a test changes the router's configuration, so it gets an i2pd of its own
(:func:`own_i2pd`, not the shared one: SIGHUP also replaces i2pd's shared local destination
and drops unused ones); :func:`add_tunnel` writes a section and makes i2pd reload,
:func:`listed_b32` waits until the web console lists the tunnel and :func:`wait_published`
until its LeaseSet is in i2pd's netdb (a new destination waits seconds for its tunnels).
"""

from __future__ import annotations

import contextlib
import html
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.support.i2pd import I2pdInstance, require_i2pd, start_i2pd, stop_i2pd

__all__ = ["add_tunnel", "listed_b32", "own_i2pd", "wait_published"]


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


def listed_b32(inst: I2pdInstance, name: str, timeout: float = 30.0) -> str:
    """The b32 the web console lists for the tunnel ``name``, once i2pd has loaded it."""
    pattern = re.compile(rf">{re.escape(name)}</a>\s*&#8658;\s*([a-z2-7]{{52}}\.b32\.i2p):")
    return _console_until(inst, "i2p_tunnels", pattern, f"tunnel {name}", timeout)


def wait_published(inst: I2pdInstance, b32: str, timeout: float = 60.0) -> None:
    """Return once i2pd's netdb has the LeaseSet of ``b32`` (the console lists it), i.e. a
    new destination of i2pd (a tunnel's) has its tunnels and can be reached."""
    pattern = re.compile(rf">({re.escape(b32.removesuffix('.b32.i2p'))})</label>")
    _console_until(inst, "leasesets", pattern, f"the LeaseSet of {b32}", timeout)


def _console_until(
    inst: I2pdInstance, page: str, pattern: re.Pattern[str], what: str, timeout: float
) -> str:
    """Group 1 of ``pattern`` in the console's ``page``, once it is there."""
    url = f"http://{inst.host}:{inst.http_port}/?page={page}"
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(url, timeout=5) as reply:
            found = pattern.search(html.unescape(reply.read().decode()).replace("⇒", "&#8658;"))
        if found:
            return found.group(1)
        assert inst.alive(), inst.log_tail()
        assert time.monotonic() < deadline, f"i2pd did not list {what}\n{inst.log_tail()}"
        # Not a synchronisation sleep: a bounded wait on the process doubles as the poll
        # interval of the console (i2pd has no event for "tunnels reloaded" or "published").
        with contextlib.suppress(subprocess.TimeoutExpired):
            inst.process.wait(timeout=0.1)
