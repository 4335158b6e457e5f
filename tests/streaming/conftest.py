"""Shared fixtures for the streaming core tests (keys are generated once per session)."""

from __future__ import annotations

import pytest

from i2p_streaming.data import PrivateKeys


@pytest.fixture(scope="session")
def keys_a() -> PrivateKeys:
    return PrivateKeys.generate()


@pytest.fixture(scope="session")
def keys_b() -> PrivateKeys:
    return PrivateKeys.generate()
