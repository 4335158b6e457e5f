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


def test_the_i2cp_package_imports_no_shell() -> None:
    """Layering: nothing in i2cp/ imports aio/ (the asyncio client lives there), not even lazily."""
    import ast
    from pathlib import Path

    import i2p_streaming.i2cp as pkg
    from i2p_streaming import I2CPClient as top
    from i2p_streaming.aio import I2CPClient

    assert top is I2CPClient
    assert not hasattr(pkg, "I2CPClient")
    root = Path(pkg.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            assert not any(n.startswith("i2p_streaming.aio") for n in names), path
