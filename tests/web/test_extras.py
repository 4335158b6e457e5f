"""The optional libraries: imported only by their own module, with an ImportError naming the
extra when missing; ``import i2p_streaming.web`` needs none of them."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import i2p_streaming.web

pytestmark = pytest.mark.timeout(30)

CASES = [
    ("i2p_streaming.web.asgi", "uvicorn", "asgi"),
    ("i2p_streaming.web.aiohttp_server", "aiohttp", "aiohttp"),
    ("i2p_streaming.web.aiohttp_client", "aiohttp", "aiohttp"),
    ("i2p_streaming.web.httpx_transport", "httpx", "httpx"),
]


@pytest.mark.parametrize(("module", "library", "extra"), CASES)
def test_missing_library_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, library: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, library, None)  # "not installed"
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(ImportError, match=rf"needs {library}.*i2p-streaming\[{extra}\]"):
        importlib.import_module(module)


def test_lazy_names_and_plain_import() -> None:
    assert i2p_streaming.web.serve_wsgi.__module__ == "i2p_streaming.web.wsgi"
    assert i2p_streaming.web.I2PTransport.__module__ == "i2p_streaming.web.httpx_transport"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = i2p_streaming.web.nothing
    code = (
        "import sys, i2p_streaming.web\n"
        "bad = {'uvicorn', 'aiohttp', 'httpx', 'httpcore', 'starlette'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=20)
