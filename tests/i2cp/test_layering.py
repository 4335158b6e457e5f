"""The sans-I/O I2CP package loads no asyncio code; the asyncio client keeps its old paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": SRC}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def test_importing_i2cp_loads_no_asyncio_module() -> None:
    loaded = _loaded_after("import i2p_streaming.i2cp, i2p_streaming.i2cp.messages")
    assert "i2p_streaming.i2cp.session" in loaded
    shells = {
        name
        for name in loaded
        if name.startswith(("i2p_streaming.aio", "i2p_streaming.sync", "i2p_streaming.router"))
        or name == "i2p_streaming.i2cp.client"
    }
    assert shells == set()
    assert "asyncio" not in loaded


def test_importing_the_streaming_core_loads_no_asyncio_module() -> None:
    loaded = _loaded_after("import i2p_streaming.streaming")
    assert not {name for name in loaded if name.startswith("i2p_streaming.aio")}
    assert "asyncio" not in loaded


def test_the_client_is_still_importable_from_its_old_paths() -> None:
    from i2p_streaming import I2CPClient as top
    from i2p_streaming.aio import I2CPClient
    from i2p_streaming.i2cp import I2CPClient as old
    from i2p_streaming.i2cp import ReconnectPolicy, SendResult, SessionLost, SessionRestored
    from i2p_streaming.i2cp.client import I2CPClient as old_module

    assert top is old is old_module is I2CPClient
    assert {ReconnectPolicy.__module__, SendResult.__module__} == {"i2p_streaming.aio.i2cp_types"}
    assert SessionLost.__module__ == SessionRestored.__module__ == "i2p_streaming.aio.i2cp_types"
