"""A small in-process I2CP router for tests of the client shell (not a real router).

It speaks enough I2CP over asyncio streams: SetDate, SessionStatus, RequestVariableLeaseSet,
loopback delivery of SendMessage between its own sessions (MessageStatus 4 when a nonce is
given), HostLookup/DestLookup against its sessions, ReconfigureSession and DestroySession.
Behaviour can be changed through the attributes listed in ``__init__``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field

from i2p_streaming.data import Destination, Lease
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.frames import Frame, FrameReader

ROUTER_TIME_MS = 1_700_000_000_000


def lease(end_ms: int = ROUTER_TIME_MS + 600_000) -> Lease:
    return Lease(b"\x11" * 32, 1234, end_ms)


@dataclass
class Conn:
    writer: asyncio.StreamWriter
    session_id: int = 0
    destination: Destination | None = None
    lease_sets: list[m.CreateLeaseSet2] = field(default_factory=list)
    received: list[m.Message] = field(default_factory=list)

    def send(self, msg: m.Message) -> None:
        if not self.writer.is_closing():
            self.writer.write(m.encode_message(msg))


class FakeRouter:
    def __init__(self) -> None:
        self.refuse_status: int | None = None  # SessionStatus to answer CreateSession with
        self.disconnect_reason: str | None = None  # send Disconnect instead
        self.request_leaseset = True
        self.reply_to_destroy = True
        self.status_code = 4
        self.reconfigure_status = 2
        self.answer_lookups = True
        self.conns: list[Conn] = []
        self.sessions: dict[bytes, Conn] = {}
        self._ids = itertools.count(100)
        self._mids = itertools.count(1)
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> tuple[str, int]:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return "127.0.0.1", self.port

    async def stop(self) -> None:
        for conn in self.conns:
            conn.writer.close()
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()

    def drop_all(self) -> None:
        """Close every client connection (the router 'goes away' for them)."""
        for conn in self.conns:
            conn.writer.close()
        self.sessions.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(writer)
        self.conns.append(conn)
        frames = FrameReader()
        try:
            if await reader.readexactly(1) != b"\x2a":
                return
            while not writer.is_closing():
                data = await reader.read(65536)
                if not data:
                    return
                frames.feed(data)
                while isinstance(frame := frames.next_frame(), Frame):
                    self._on_message(conn, m.decode_message(frame.msg_type, frame.body))
        except (OSError, asyncio.IncompleteReadError):
            return
        finally:
            if conn.destination is not None:
                self.sessions.pop(conn.destination.hash, None)
            writer.close()

    def _on_message(self, conn: Conn, msg: m.Message) -> None:
        conn.received.append(msg)
        if isinstance(msg, m.GetDate):
            conn.send(m.SetDate(ROUTER_TIME_MS, "0.9.66"))
        elif isinstance(msg, m.CreateSession):
            if self.disconnect_reason is not None:
                conn.send(m.Disconnect(self.disconnect_reason))
                conn.writer.close()
                return
            if self.refuse_status is not None:
                conn.send(m.SessionStatus(0xFFFF, self.refuse_status))
                return
            assert msg.config.verify()
            conn.session_id = next(self._ids)
            conn.destination = msg.config.destination
            self.sessions[conn.destination.hash] = conn
            conn.send(m.SessionStatus(conn.session_id, 1))
            if self.request_leaseset:
                conn.send(m.RequestVariableLeaseSet(conn.session_id, (lease(),)))
        elif isinstance(msg, m.CreateLeaseSet2):
            assert msg.lease_set.verify()
            conn.lease_sets.append(msg)
        elif isinstance(msg, m.SendMessage | m.SendMessageExpires):
            peer = self.sessions.get(msg.destination.hash)
            if peer is not None:
                peer.send(m.MessagePayload(peer.session_id, next(self._mids), msg.payload))
            if msg.nonce:
                code = self.status_code if peer is not None else 21
                conn.send(m.MessageStatus(conn.session_id, next(self._mids), code, 0, msg.nonce))
        elif isinstance(msg, m.HostLookup):
            if not self.answer_lookups:
                return
            assert isinstance(msg.key, bytes)
            found = self.sessions.get(msg.key)
            dest = found.destination if found is not None else None
            conn.send(m.HostReply(msg.session_id, msg.request_id, 0 if dest else 1, dest))
        elif isinstance(msg, m.ReconfigureSession):
            conn.send(m.SessionStatus(conn.session_id, self.reconfigure_status))
        elif isinstance(msg, m.DestroySession) and self.reply_to_destroy:
            conn.send(m.SessionStatus(conn.session_id, 0))
            conn.writer.close()
