"""A FakeRouter that holds back chosen requests (for late-answer and reconnect tests), and
helpers to connect a client to it and to pick the client's log records."""

from __future__ import annotations

import asyncio
import logging

import pytest

from i2p_streaming.aio import I2CPClient
from i2p_streaming.i2cp import messages as m
from tests.support.fakerouter import Conn, FakeRouter

LOGGER = "i2p_streaming.i2cp"


class GatedRouter(FakeRouter):
    """A FakeRouter that can hold back requests of chosen types until :meth:`release`, and
    can leave the next ``stall_sessions`` sessions without a lease-set request."""

    def __init__(self) -> None:
        super().__init__()
        self.hold: set[type[m.Message]] = set()
        self.held: list[tuple[Conn, m.Message]] = []
        self.stall_sessions = 0
        self._changed = asyncio.Event()

    def _on_message(self, conn: Conn, msg: m.Message) -> None:
        if type(msg) in self.hold:
            self.held.append((conn, msg))
            self._changed.set()
            return
        if isinstance(msg, m.CreateSession) and self.stall_sessions > 0:
            self.stall_sessions -= 1
            self.request_leaseset = False
            try:
                super()._on_message(conn, msg)
            finally:
                self.request_leaseset = True
            return
        super()._on_message(conn, msg)

    async def wait_held(self, count: int) -> None:
        """Wait until ``count`` requests are being held."""
        while len(self.held) < count:
            self._changed.clear()
            await self._changed.wait()

    def release(self) -> None:
        """Answer every held request now, in arrival order."""
        held, self.held = self.held, []
        for conn, msg in held:
            super()._on_message(conn, msg)


async def connect_client(router: FakeRouter, **kwargs: object) -> I2CPClient:
    return await I2CPClient.connect("127.0.0.1", router.port, timeout=5, **kwargs)  # type: ignore[arg-type]


def log_records(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and text in r.getMessage()]
