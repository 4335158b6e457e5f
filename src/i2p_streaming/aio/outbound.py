"""The session's way out: one flush's streaming packets to the I2CP client in one write.

Data packets and SYNs go with ``send_many_nowait`` (nonce 0, no status; SYNs compressed, data
stored). An opening SYN that wants a delivery status goes on its own with ``I2CPClient.send``
in a task; a hard failure status refuses the connect through ``on_refused``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from i2p_streaming.aio.i2cp_client import I2CPClient
from i2p_streaming.errors import I2CPError
from i2p_streaming.i2cp import PROTO_STREAMING
from i2p_streaming.streaming import OutgoingPacket

__all__ = ["SOFT_FAILURES", "Outbound"]

log = logging.getLogger("i2p_streaming.aio")

#: MessageStatus codes Java treats as soft failures of the opening SYN (only logged).
SOFT_FAILURES = frozenset({3, 5, 7, 14, 16, 21})


class Outbound:
    """Sends streaming packets for one session.

    ``on_refused(stream_id, message)`` is called when the router reports a hard failure for
    the opening SYN of ``stream_id``. ``internal_errors`` counts unexpected exceptions of the
    status tasks (each logged at ERROR with its traceback).
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, name: str, on_refused: Callable[[int, str], None]
    ) -> None:
        self._loop = loop
        self._name = name
        self._on_refused = on_refused
        self._tasks: set[asyncio.Task[None]] = set()
        self.internal_errors = 0

    def send(
        self,
        client: I2CPClient,
        packets: list[OutgoingPacket],
        syn_owner: int | None,
        status_timeout: float,
    ) -> None:
        """Hand ``packets`` to I2CP in one socket write; a SYN with ``want_status`` (of stream
        ``syn_owner``) goes on its own and its status is watched."""
        try:
            batch = []
            for p in packets:
                if p.want_status:
                    self._send_with_status(client, p, syn_owner, status_timeout)
                else:
                    batch.append(
                        (p.destination, p.data, PROTO_STREAMING, p.src_port, p.dst_port, p.is_syn)
                    )
            if batch:
                client.send_many_nowait(batch)
        except (I2CPError, ConnectionError) as exc:
            log.debug("session %s: send failed: %s", self._name, exc)

    def _send_with_status(
        self, client: I2CPClient, p: OutgoingPacket, owner: int | None, timeout: float
    ) -> None:
        async def send() -> None:
            result = await client.send(
                p.destination,
                p.data,
                protocol=PROTO_STREAMING,
                src_port=p.src_port,
                dst_port=p.dst_port,
                compress=True,
                timeout=timeout,
            )
            code = result.status
            if result.delivered or code is None or code in SOFT_FAILURES or owner is None:
                return
            self._on_refused(
                owner,
                f"cannot reach {p.destination.b32} port {p.dst_port}: the router "
                f"reported {result.reason} (status {code})",
            )

        task = self._loop.create_task(send())
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, I2CPError | ConnectionError):  # the session went away meanwhile
            log.debug("session %s: SYN status: %s", self._name, exc)
        elif exc is not None:
            self.internal_errors += 1
            log.error("session %s: SYN status task failed", self._name, exc_info=exc)

    def cancel(self) -> None:
        """Cancel the status tasks (the session is closing)."""
        for task in list(self._tasks):
            task.cancel()
