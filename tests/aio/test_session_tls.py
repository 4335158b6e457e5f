"""create_session(tls=True) verifies the router's certificate unless told how to pin or skip."""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path
from typing import Any

import pytest

from i2p_streaming.aio import create_session
from i2p_streaming.aio.config import tls_context
from i2p_streaming.errors import I2CPConnectionError
from tests.support.embedded import embedded_router
from tests.support.tls import make_tls_server

pytestmark = pytest.mark.timeout(30)


async def test_tls_verifies_by_default_and_pins_or_skips_on_request(tmp_path: Path) -> None:
    server_ctx, cert_pem = make_tls_server()
    cafile = tmp_path / "router.pem"
    cafile.write_bytes(cert_pem)
    der = ssl.PEM_cert_to_DER_cert(cert_pem.decode())
    fingerprint = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    async with embedded_router(tls=server_ctx) as t:
        host, port = t.i2cp_address
        router = f"{host}:{port}"
        with pytest.raises(I2CPConnectionError, match="certificate verify failed"):
            await create_session(router, tls=True, timeout=5)  # self-signed: not trusted
        with pytest.raises(I2CPConnectionError, match="does not match tls_fingerprint"):
            await create_session(router, tls=True, tls_fingerprint="00" * 32, timeout=5)
        pins: list[dict[str, Any]] = [
            {"tls_cafile": cafile},
            {"tls_fingerprint": fingerprint},
            {"tls_verify": False},
        ]
        for how in pins:
            async with (
                create_session(router, tls=True, timeout=5, **how) as a,
                create_session(router, tls=True, timeout=5, **how) as b,
            ):
                assert await a.ping(b.destination, timeout=5) >= 0


def test_tls_choices_that_contradict_are_refused() -> None:
    with pytest.raises(ValueError, match="need tls=True"):
        tls_context(False, verify=False)
    with pytest.raises(ValueError, match="need tls=True"):
        tls_context(ssl.create_default_context(), fingerprint="00" * 32)
    with pytest.raises(ValueError, match="contradicts"):
        tls_context(True, verify=False, fingerprint="00" * 32)
    with pytest.raises(ValueError, match="not both"):
        tls_context(True, cafile="x.pem", fingerprint="00" * 32)
    with pytest.raises(ValueError, match="64 digits"):
        tls_context(True, fingerprint="abc")
    default = tls_context(True)
    assert default is not None and default.verify_mode == ssl.CERT_REQUIRED
    assert default.check_hostname
