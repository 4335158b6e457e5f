"""Shared fixtures. The i2pd logic lives in tests/i2pd.py, the SAM client in tests/sam.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.i2pd import I2pdInstance, I2pdManager
from tests.support.sam import SAMSession


@pytest.fixture(scope="session")
def i2pd_manager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[I2pdManager]:
    """The session's shared i2pd: started on first use, restarted if it died, stopped at end."""
    manager = I2pdManager(tmp_path_factory.mktemp("i2pd"))
    yield manager
    manager.stop()


@pytest.fixture
def i2pd(i2pd_manager: I2pdManager) -> I2pdInstance:
    """An alive i2pd (skip locally / fail under CI=true when none is installed)."""
    return i2pd_manager.get()


@pytest.fixture(scope="session")
def sam_session(i2pd_manager: I2pdManager) -> SAMSession:
    """One long-lived zero-hop STREAM session on the shared i2pd, reused across tests."""
    return i2pd_manager.sam_session()


@pytest.fixture(autouse=True)
def _fresh_sam_session(request: pytest.FixtureRequest) -> None:
    """Before each test that uses sam_session: recreate it if i2pd was restarted."""
    if "sam_session" in request.fixturenames:
        request.getfixturevalue("i2pd_manager").sam_session()
