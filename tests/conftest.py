"""Shared fixtures. The i2pd logic lives in tests/support/i2pd.py, the SAM client in
tests/support/sam.py.

Every ``i2pd`` test runs against the newest installed i2pd (``.cache/i2pd-newest``, Debian
unstable's 2.59 today). The interop subset, marked ``i2pd_versions``, runs once per flavour in
``FLAVOURS`` (ids ``[i2pd-newest]`` and ``[i2pd-stable]``; the stable one is Debian trixie's
2.56): locally a missing flavour skips, under CI=true it fails. One i2pd per flavour serves the
whole test session. Tests that do not need fresh sessions of their own can share ones kept
for their module (``kept_sessions``, tests/support/i2pd_sessions.py): each fresh destination
waits several seconds for i2pd's tunnel thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.support.i2pd import FLAVOURS, I2pdInstance, I2pdManager, I2pdManagers, find_i2pd
from tests.support.i2pd_sessions import KeptSessions
from tests.support.sam import SAMSession


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``i2pd_versions`` that use the i2pd fixtures run once per flavour."""
    if "i2pd_flavour" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "i2pd_versions"
    ):
        metafunc.parametrize(
            "i2pd_flavour", FLAVOURS, indirect=True, ids=[f"i2pd-{f}" for f in FLAVOURS]
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    found = {flavour: find_i2pd(flavour) for flavour in FLAVOURS}
    return ["i2pd: " + ", ".join(f"{f} {b.version if b else 'missing'}" for f, b in found.items())]


@pytest.fixture(scope="session")
def i2pd_managers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[I2pdManagers]:
    """Every flavour's shared i2pd: started on first use, restarted if it died, stopped at end."""
    managers = I2pdManagers(tmp_path_factory)
    yield managers
    managers.stop()


@pytest.fixture
def i2pd_flavour(request: pytest.FixtureRequest) -> str:
    """The i2pd flavour of this test: ``newest`` unless parametrized (``i2pd_versions``)."""
    return str(getattr(request, "param", FLAVOURS[0]))


@pytest.fixture
def i2pd_manager(i2pd_managers: I2pdManagers, i2pd_flavour: str) -> I2pdManager:
    """The shared i2pd manager of this test's flavour."""
    return i2pd_managers.get(i2pd_flavour)


@pytest.fixture
def i2pd(i2pd_manager: I2pdManager) -> I2pdInstance:
    """An alive i2pd (skip locally / fail under CI=true when none is installed)."""
    return i2pd_manager.get()


@pytest.fixture
def sam_session(i2pd_manager: I2pdManager) -> SAMSession:
    """One long-lived zero-hop STREAM session per i2pd flavour, reused across tests (recreated
    with the same keys when that i2pd was restarted)."""
    return i2pd_manager.sam_session()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kept_sessions(i2pd_managers: I2pdManagers) -> AsyncIterator[KeptSessions]:
    """Our sessions on the shared i2pds, kept for the tests of one module (which run on the
    module's event loop: ``pytest.mark.asyncio(loop_scope="module")``); closed at its end."""
    kept = KeptSessions(i2pd_managers.get)
    yield kept
    await kept.close()
