"""Our asyncio sessions on a real i2pd: opened together, or kept for the tests of a module.

Why: i2pd builds a new destination's tunnels only from its tunnel thread's pool check, which
runs every 5 s (``Tunnels::Run``) and serves a new pool first at a random 0-9 s after its
creation (``TunnelPool::m_NextManageTime``); only then does an I2CP session get its
RequestVariableLeaseSet (a SAM session its ``SESSION STATUS``, checked every 3 s). So every
fresh destination waits about 1-14 s (7 on average) for i2pd, whatever the client does.
Sessions opened at once wait for the same checks; opened one after another, the waits add
up. :func:`open_sessions` opens them together; :class:`KeptSessions` keeps them for the tests
of a module that do not need fresh ones (run those tests on the module's event loop:
``pytest.mark.asyncio(loop_scope="module")``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping

from i2p_streaming.aio import ZERO_HOP, Session, create_session
from tests.support.i2pd import I2pdInstance, I2pdManager
from tests.support.i2pd_console import wait_published

__all__ = ["KeptSessions", "open_sessions", "router", "session_usable"]

OptionsArg = Mapping[str, str]


def router(i2pd: I2pdInstance) -> str:
    """``host:port`` of the I2CP port of ``i2pd``."""
    host, port = i2pd.i2cp_address
    return f"{host}:{port}"


async def _open_all(i2pd: I2pdInstance, options: tuple[OptionsArg, ...]) -> list[Session]:
    """One session per entry of ``options``, all opened at once and returned once i2pd's
    netdb has every LeaseSet (before that, a lookup of their b32 answers "not found"); if
    one fails, the others are closed and its error raised."""
    address = router(i2pd)

    async def ready(options: OptionsArg) -> Session:
        session = await create_session(address, options=dict(options))
        try:
            await asyncio.to_thread(wait_published, i2pd, session.b32)
        except BaseException:
            await session.close()
            raise
        return session

    results = await asyncio.gather(*(ready(o) for o in options), return_exceptions=True)
    sessions = [r for r in results if isinstance(r, Session)]
    failure = next((r for r in results if isinstance(r, BaseException)), None)
    if failure is not None:
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
        raise failure
    return sessions


@contextlib.asynccontextmanager
async def open_sessions(
    i2pd: I2pdInstance, *options: OptionsArg, count: int = 0
) -> AsyncIterator[list[Session]]:
    """Fresh sessions on ``i2pd`` opened together: one per ``options`` mapping, or ``count``
    zero-hop ones when none is given; reachable (their LeaseSets in i2pd's netdb) when
    handed out, all closed at the end."""
    wanted = options or tuple(ZERO_HOP for _ in range(count))
    sessions = await _open_all(i2pd, wanted)
    try:
        yield sessions
    finally:
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)


def session_usable(session: Session) -> bool:
    """True while ``session`` is open and its I2CP session established."""
    client = session.client
    return not session.is_closed and client is not None and client.is_connected


class KeptSessions:
    """Sessions on the shared i2pd of each flavour, kept for the tests of one module: a test
    asks :meth:`get` for ``count`` zero-hop ones (or one per ``options``) and gets the same
    sessions as the module's earlier tests that asked the same, opened together on first use
    and reopened when that i2pd was restarted or one of them ended. :meth:`close` at the
    module's end. The sessions live on the module's event loop: the tests that use them run
    on it (``pytest.mark.asyncio(loop_scope="module")``).

    A test that takes them must leave them as it found them: close its servers (a port it
    left listening is refused to the next test) and compare counters with their values at
    its start."""

    def __init__(self, managers: Callable[[str], I2pdManager]) -> None:
        self._managers = managers
        self._kept: dict[tuple[str, tuple[tuple[tuple[str, str], ...], ...]], _Kept] = {}

    async def get(self, flavour: str, *options: OptionsArg, count: int = 0) -> list[Session]:
        """The kept sessions of ``flavour`` for these options (opened first when there are
        none yet, or they are stale)."""
        wanted = options or tuple(ZERO_HOP for _ in range(count))
        key = (flavour, tuple(tuple(sorted(o.items())) for o in wanted))
        kept = self._kept.get(key)
        if kept is None:
            kept = self._kept[key] = _Kept(self._managers(flavour), wanted)
        return await kept.get()

    async def close(self) -> None:
        """Close every kept session."""
        kept, self._kept = list(self._kept.values()), {}
        await asyncio.gather(*(k.close() for k in kept), return_exceptions=True)


class _Kept:
    """The sessions of one :meth:`KeptSessions.get` key, and the i2pd start they are on."""

    def __init__(self, manager: I2pdManager, options: tuple[OptionsArg, ...]) -> None:
        self._manager = manager
        self._options = options
        self._sessions: list[Session] = []
        self._generation = 0

    async def get(self) -> list[Session]:
        inst = self._manager.get()
        stale = self._generation != self._manager.generation or not all(
            session_usable(s) for s in self._sessions
        )
        if self._sessions and stale:
            await self.close()
        if not self._sessions:
            self._sessions = await _open_all(inst, self._options)
            self._generation = self._manager.generation
        return self._sessions

    async def close(self) -> None:
        sessions, self._sessions = self._sessions, []
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
