"""Fixtures of the optional ``java`` ring: a compiled JavaPeer, skipped without JAVA_I2P_HOME."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.java import JavaInstall, JavaPeer, compile_peer, java_home


@pytest.fixture(scope="session")
def java_install() -> JavaInstall:
    install = java_home()
    if install is None:
        pytest.skip("JAVA_I2P_HOME is not set to a built Java I2P (see docs/java-interop.md)")
    return install


@pytest.fixture(scope="session")
def java_classes(java_install: JavaInstall, tmp_path_factory: pytest.TempPathFactory) -> object:
    return compile_peer(java_install, tmp_path_factory.mktemp("javapeer"))


@pytest.fixture
async def java(java_install: JavaInstall, java_classes: object) -> AsyncIterator[JavaPeer]:
    from pathlib import Path

    assert isinstance(java_classes, Path)
    peer = JavaPeer(java_install, java_classes)
    try:
        yield peer
    finally:
        await peer.close()
