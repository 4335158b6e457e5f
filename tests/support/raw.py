"""A hand-driven I2CP client for router tests: sends exactly the bytes a test wants."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Mapping

from i2p_streaming.data import (
    Destination,
    EncryptionKey,
    EncType,
    Lease,
    Lease2,
    LeaseSet2,
    PrivateKeys,
    generate_x25519,
)
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.frames import Frame, FrameReader
from i2p_streaming.i2cp.options import DEFAULT_OPTIONS

TIMEOUT = 5.0


class RawClient:
    """An open socket to the router plus a frame reader; ``keys`` is our identity."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, keys: PrivateKeys
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.keys = keys
        self.frames = FrameReader()
        self.session_id: int | None = None
        self.leases: tuple[Lease, ...] = ()
        self.x_priv, self.x_pub = generate_x25519()

    @classmethod
    async def open(
        cls, address: tuple[str, int], keys: PrivateKeys | None = None, *, rcvbuf: int = 0
    ) -> RawClient:
        sock = None
        if rcvbuf:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, address)
            reader, writer = await asyncio.open_connection(sock=sock)
        else:
            reader, writer = await asyncio.open_connection(*address)
        return cls(reader, writer, keys or PrivateKeys.generate())

    @property
    def destination(self) -> Destination:
        return self.keys.destination

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    def send(self, msg: m.Message) -> None:
        self.writer.write(m.encode_message(msg))

    async def read(self) -> m.Message:
        """The next message from the router; raises EOFError at end of stream."""
        while True:
            frame = self.frames.next_frame()
            if isinstance(frame, Frame):
                return m.decode_message(frame.msg_type, frame.body)
            assert frame is None, frame
            data = await asyncio.wait_for(self.reader.read(65536), TIMEOUT)
            if not data:
                raise EOFError
            self.frames.feed(data)

    async def expect(self, cls: type[m.Message]) -> m.Message:
        msg = await self.read()
        assert isinstance(msg, cls), msg
        return msg

    async def disconnected(self) -> str:
        """Read until a Disconnect; then check the socket closes; return the reason."""
        msg = await self.read()
        assert isinstance(msg, m.Disconnect), msg
        await self.eof()
        return msg.reason

    async def eof(self) -> None:
        with_data = await asyncio.wait_for(self.reader.read(), TIMEOUT)
        self.frames.feed(with_data)
        assert self.frames.next_frame() is None

    async def hello(self, auth: Mapping[str, str] | None = None) -> m.SetDate:
        self.write(b"\x2a")
        self.send(m.GetDate("0.9.66", dict(auth) if auth is not None else None))
        msg = await self.expect(m.SetDate)
        assert isinstance(msg, m.SetDate)
        return msg

    def config(
        self, options: Mapping[str, str] | None = None, date_ms: int | None = None
    ) -> m.SessionConfig:
        opts = dict(DEFAULT_OPTIONS if options is None else options)
        return m.SessionConfig.create(
            self.keys,
            opts,
            int(time.time() * 1000) if date_ms is None else date_ms,
            add_offline_options=False,
        )

    async def create(self, config: m.SessionConfig | None = None) -> m.SessionStatus:
        self.send(m.CreateSession(config or self.config()))
        status = await self.expect(m.SessionStatus)
        assert isinstance(status, m.SessionStatus)
        if status.status == m.SessionStatus.CREATED:
            self.session_id = status.session_id
            request = await self.expect(m.RequestVariableLeaseSet)
            assert isinstance(request, m.RequestVariableLeaseSet)
            assert request.session_id == status.session_id
            self.leases = request.leases
        return status

    def lease_set(
        self, *, keys: PrivateKeys | None = None, published: int | None = None
    ) -> LeaseSet2:
        now = int(time.time())
        return LeaseSet2.build(
            keys or self.keys,
            encryption_keys=[EncryptionKey(int(EncType.ECIES_X25519), self.x_pub)],
            leases=[Lease2.from_lease(lease) for lease in self.leases],
            published=now if published is None else published,
        )

    def publish(self, lease_set: LeaseSet2 | None = None, private: bytes | None = None) -> None:
        assert self.session_id is not None
        ls = lease_set or self.lease_set()
        key = self.x_priv if private is None else private
        self.send(m.CreateLeaseSet2(self.session_id, ls, ((int(EncType.ECIES_X25519), key),)))

    async def ready(self, options: Mapping[str, str] | None = None) -> None:
        """Handshake, session, lease set; confirmed with a DestLookup of ourselves."""
        await self.hello()
        status = await self.create(self.config(options))
        assert status.status == m.SessionStatus.CREATED
        self.publish()
        self.send(m.DestLookup(self.destination.hash))
        reply = await self.expect(m.DestReply)
        assert isinstance(reply, m.DestReply)
        assert reply.destination == self.destination

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()
