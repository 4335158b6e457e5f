"""Every error a user can meet, and StreamOptions, is exported from ``i2p_streaming``,
documented by a docstring, and named in the README or docs."""

from __future__ import annotations

from pathlib import Path

import pytest

import i2p_streaming
from i2p_streaming import errors

ROOT = Path(__file__).resolve().parents[1]
USER_FACING = [
    "DataFormatError",
    "DatagramTooLarge",
    "DestinationLookupError",
    "I2CPConnectionError",
    "I2CPError",
    "I2CPProtocolError",
    "InvalidStateError",
    "NonI2PHostError",
    "SessionRefusedError",
    "StreamOptions",
    "UnknownOptionWarning",
]


def _docs() -> str:
    texts = [(ROOT / "README.md").read_text()]
    texts += [p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(texts)


@pytest.mark.parametrize("name", USER_FACING)
def test_exported_documented_and_named_in_the_docs(name: str) -> None:
    assert name in i2p_streaming.__all__
    obj = getattr(i2p_streaming, name)
    assert (obj.__doc__ or "").strip()
    assert f"`{name}`" in _docs() or f"i2p_streaming.{name}" in _docs()


def test_every_error_class_is_exported() -> None:
    classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    assert classes <= set(i2p_streaming.__all__)
    assert classes <= set(USER_FACING)


def test_the_readme_names_keep_working() -> None:
    import i2p_streaming.sync

    assert callable(i2p_streaming.create_session)
    assert callable(i2p_streaming.sync.create_session)
    assert callable(i2p_streaming.sync.serve)
    assert i2p_streaming.ZERO_HOP["inbound.length"] == "0"
    assert issubclass(i2p_streaming.DestinationLookupError, LookupError)
    assert issubclass(i2p_streaming.InvalidStateError, RuntimeError)
    for method in ("open_connection", "start_server", "create_connection", "create_server"):
        assert callable(getattr(i2p_streaming.Session, method))
    assert callable(i2p_streaming.Session.ping)
    for method in ("connect", "listen"):
        assert callable(getattr(i2p_streaming.sync.SyncSession, method))
