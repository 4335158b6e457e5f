"""What i2pd's web console lists, for tests that must wait for i2pd (it has no events).

:func:`listed_b32`: a tunnel of its ``tunnels.conf`` once loaded; :func:`wait_published`: a
destination once its LeaseSet is in i2pd's netdb, i.e. once a lookup of its b32 through this
i2pd finds it. A new destination is up (I2CP: we sent its LeaseSet; SAM: SESSION STATUS OK)
a moment before that: a lookup in between answers "not found".
"""

from __future__ import annotations

import contextlib
import html
import re
import subprocess
import time
import urllib.request

from tests.support.i2pd import I2pdInstance

__all__ = ["listed_b32", "wait_published"]


def listed_b32(inst: I2pdInstance, name: str, timeout: float = 30.0) -> str:
    """The b32 the web console lists for the tunnel ``name``, once i2pd has loaded it."""
    pattern = re.compile(rf">{re.escape(name)}</a>\s*&#8658;\s*([a-z2-7]{{52}}\.b32\.i2p):")
    return _console_until(inst, "i2p_tunnels", pattern, f"tunnel {name}", timeout)


def wait_published(inst: I2pdInstance, b32: str, timeout: float = 60.0) -> None:
    """Return once i2pd's netdb has the LeaseSet of ``b32`` (the console lists it): the new
    destination (ours, a SAM session's, a tunnel's) can be looked up and reached."""
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
