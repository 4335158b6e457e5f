"""The embedded I2CP router as a test fixture body (see i2p_streaming.router).

Use :func:`embedded_router` directly in a test or an async fixture::

    async with embedded_router(impairments=Impairments(loss=0.1), seed=1) as target:
        client = await I2CPClient.connect(*target.i2cp_address)

:class:`RouterTarget` gives tests one shape for "an I2CP router to talk to", whether it is an
i2pd (``router`` is None) or the embedded router (``router`` is the EmbeddedRouter, whose
impairments, counters and names the test may change).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from i2p_streaming.router import EmbeddedRouter

__all__ = ["RouterTarget", "embedded_router"]


@dataclass(frozen=True, slots=True)
class RouterTarget:
    """An I2CP router under test: ``kind`` ("embedded" or "i2pd"), its I2CP address, and the
    EmbeddedRouter when it is one (None for i2pd)."""

    kind: str
    i2cp_address: tuple[str, int]
    router: EmbeddedRouter | None = None

    @property
    def embedded(self) -> EmbeddedRouter:
        """The EmbeddedRouter (raises ``TypeError`` for an i2pd target)."""
        if self.router is None:
            raise TypeError(f"the {self.kind} router has no impairment controls")
        return self.router


@asynccontextmanager
async def embedded_router(**kwargs: Any) -> AsyncIterator[RouterTarget]:
    """Start an :class:`EmbeddedRouter` on 127.0.0.1 and a free port (``kwargs`` go to its
    constructor), yield it as a :class:`RouterTarget`, stop it afterwards."""
    kwargs.setdefault("host", "127.0.0.1")
    kwargs.setdefault("port", 0)
    async with EmbeddedRouter(**kwargs) as router:
        yield RouterTarget("embedded", router.address, router)
