"""One client connection of the embedded router: the router side of the I2CP protocol.

Frames are read with the shared :class:`~i2p_streaming.i2cp.frames.FrameReader` and decoded
with :mod:`i2p_streaming.i2cp.messages`. Every message of the I2CP spec a client can send is
answered as Java's router answers it (``docs/embedded-router.md`` has the table). Anything that
breaks the protocol (first byte not 0x2A, oversized or truncated frames, malformed bodies,
unknown or router-to-client message types) gets a Disconnect with the reason and the socket is
closed; nothing a client sends can raise out of this class. Back-pressure: reading stops while
the client does not read what we send (write buffer above its high-water mark) or while its own
payloads in flight exceed the router's ``max_pending_bytes``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.frames import Frame, FrameReader
from i2p_streaming.i2cp.options import ENC_TYPE_OPTION
from i2p_streaming.router.checks import (
    check_lease_set,
    check_lease_set1,
    check_other_lease_set,
    check_session_config,
    unsupported_enc_type,
)
from i2p_streaming.router.held import HeldPayloads
from i2p_streaming.router.lookups import host_reply

if TYPE_CHECKING:
    from i2p_streaming.router.server import EmbeddedRouter, RouterSession

__all__ = ["PROTOCOL_BYTE", "ROUTER_API_VERSION", "ClientConnection"]

log = logging.getLogger("i2p_streaming.router")

PROTOCOL_BYTE = 0x2A
#: MessageStatus codes the router sends.
STATUS_ACCEPTED = 1
STATUS_SUCCESS = 4
STATUS_BAD_SESSION = 10
STATUS_EXPIRED = 14
STATUS_NO_TUNNELS = 16
STATUS_NO_LEASESET = 21
STATUS_META_LEASESET = 22
#: MessageStatus "available": a payload announced to a client without fast receive.
STATUS_AVAILABLE = 0
#: API version announced in SetDate.
ROUTER_API_VERSION = "0.9.67"  # with the ML-KEM hybrid lease-set types 5/6/7
#: client in/out, router in/in-burst/out/out-burst (KBytes/s), burst seconds, 9 unused.
_DEFAULT_LIMITS = (8192, 8192, 8192, 8192, 8192, 8192, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0)


class ClientConnection(asyncio.Protocol):
    """The router's side of one client socket (at most one session, like i2pd)."""

    def __init__(self, router: EmbeddedRouter) -> None:
        self.router = router
        self.session: RouterSession | None = None
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reader = FrameReader()
        self._started = False
        self._authorized = router.username is None and router.password is None
        self._open = False
        self._pending = 0
        self._paused: set[str] = set()
        self._held = HeldPayloads()
        self.disconnect_reason: str | None = None
        self.peer = "?"

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._open = True
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "?"
        transport.set_write_buffer_limits(high=self.router.max_queue_bytes)
        self.router.connection_opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._open = False
        self.router.connection_closed(self)
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        self._pause("writing")

    def resume_writing(self) -> None:
        self._resume("writing")

    def data_received(self, data: bytes) -> None:
        if not self._open:
            return
        if not self._started:
            if data[0] != PROTOCOL_BYTE:
                self.disconnect(f"expected the I2CP protocol byte 0x2a, got 0x{data[0]:02x}")
                return
            self._started = True
            data = data[1:]
        reader = self._reader
        reader.feed(data)
        while self._open:
            frame = reader.next_frame()
            if frame is None:
                break
            if not isinstance(frame, Frame):
                self.disconnect(frame.reason)
                break
            self._dispatch(frame)
        self.router.run_due()

    def eof_received(self) -> bool:
        error = self._reader.eof_error()
        if error is not None and self._open:
            self.disconnect(f"truncated frame: {error.reason}")
        else:
            self.close()
        return False

    # -- output and flow control -------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True until the router closes the connection or the client goes away."""
        return self._open

    @property
    def queued_bytes(self) -> int:
        """Bytes written but not yet taken by the client's socket, plus payloads held for a
        client without fast receive."""
        written = self.transport.get_write_buffer_size() if self.transport is not None else 0
        return written + self._held.held_bytes

    def send(self, msg: m.Message) -> None:
        """Queue one message for the client (dropped silently once closing)."""
        if self._open and self.transport is not None:
            self.transport.write(m.encode_message(msg))

    def deliver(self, session: RouterSession, message_id: int, blob: bytes) -> None:
        """Queue a payload for ``session``: a MessagePayload with fast receive, else hold it
        and queue MessageStatus(status 0, size) announcing it (sent on ReceiveMessageBegin)."""
        if session.fast_receive:
            self.send(m.MessagePayload(session.session_id, message_id, blob))
            return
        self._held.hold(message_id, blob)
        self.send(m.MessageStatus(session.session_id, message_id, STATUS_AVAILABLE, len(blob), 0))

    def close(self) -> None:
        """Close after flushing what is queued."""
        self._open = False
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Close at once, dropping what is queued."""
        self._open = False
        if self.transport is not None:
            self.transport.abort()

    def disconnect(self, reason: str, *, error: bool = True) -> None:
        """Send Disconnect(reason) and close; ``error`` counts it as a protocol error."""
        if not self._open:
            return
        if error:
            self.router.count_protocol_error()
            log.info("disconnecting I2CP client %s: %s", self.peer, reason)
        self.disconnect_reason = reason
        self.send(m.Disconnect(reason.encode()[:255].decode(errors="ignore")))
        self.close()

    def add_pending(self, size: int) -> None:
        """``size`` bytes of ours are scheduled for delivery; pause reading above the bound."""
        self._pending += size
        if self._pending > self.router.max_pending_bytes:
            self._pause("pending")

    def remove_pending(self, size: int) -> None:
        """``size`` bytes of ours left the scheduler; resume reading below half the bound."""
        self._pending -= size
        if self._pending <= self.router.max_pending_bytes // 2:
            self._resume("pending")

    def _pause(self, why: str) -> None:
        if not self._paused and self.transport is not None and self._open:
            self.transport.pause_reading()
            self.router.count_read_pause()
        self._paused.add(why)

    def _resume(self, why: str) -> None:
        if why not in self._paused:
            return
        self._paused.discard(why)
        if not self._paused and self.transport is not None and self._open:
            self.transport.resume_reading()

    # -- dispatch ----------------------------------------------------------------------------

    def _dispatch(self, frame: Frame) -> None:
        try:
            msg = m.decode_message(frame.msg_type, frame.body)
        except DataFormatError as exc:
            self.disconnect(f"malformed message of type {frame.msg_type}: {exc}")
            return
        if not self._authorized and not isinstance(msg, m.GetDate):
            self.disconnect("Authorization required")
            return
        handler = _HANDLERS.get(type(msg))
        if handler is not None:
            handler(self, msg)
        elif isinstance(msg, m.UnknownMessage):
            self.disconnect(f"unsupported message type {msg.msg_type}")
        else:  # every other known type is router-to-client
            self.disconnect(f"unexpected {type(msg).__name__} from a client")

    def _session_for(self, session_id: int) -> RouterSession | None:
        session = self.session
        return session if session is not None and session.session_id == session_id else None

    def _on_get_date(self, msg: m.GetDate) -> None:
        router = self.router
        if router.username is not None or router.password is not None:
            auth = msg.auth or {}
            if auth.get("i2cp.username") != (router.username or "") or auth.get(
                "i2cp.password"
            ) != (router.password or ""):
                self.disconnect("Authorization failed")
                return
            self._authorized = True
        self.send(m.SetDate(router.wall_ms(), ROUTER_API_VERSION if msg.version else None))

    def _on_create_session(self, msg: m.CreateSession) -> None:
        router = self.router
        if self.session is not None:
            self.send(m.SessionStatus(self.session.session_id, m.SessionStatus.REFUSED))
            return
        cfg = msg.config
        reason = check_session_config(cfg, router.wall_ms())
        if reason is not None:
            log.info("refusing session for %s: %s", cfg.destination.b32, reason)
            self.send(m.SessionStatus(m.NO_SESSION, m.SessionStatus.INVALID))
            return
        refused = unsupported_enc_type(cfg.options.get(ENC_TYPE_OPTION), router.enc_types)
        if refused is not None:  # Java's answer for a type it lacks
            self.disconnect(refused, error=False)
            return
        if router.destination_in_use(cfg.destination):
            log.info("refusing session for %s: destination in use", cfg.destination.b32)
            self.send(m.SessionStatus(m.NO_SESSION, m.SessionStatus.REFUSED))
            return
        self.session = router.add_session(self, cfg.destination, cfg.options)
        self.send(m.SessionStatus(self.session.session_id, m.SessionStatus.CREATED))
        router.request_lease_set(self.session)

    def _on_reconfigure(self, msg: m.ReconfigureSession) -> None:
        session = self._session_for(msg.session_id)
        if session is None:
            self.send(m.SessionStatus(msg.session_id, m.SessionStatus.INVALID))
            return
        cfg = msg.config
        reason = check_session_config(cfg, self.router.wall_ms())
        if reason is None and cfg.destination != session.destination:
            reason = "ReconfigureSession for another destination"
        if reason is not None:
            log.info("rejecting reconfiguration of session %d: %s", session.session_id, reason)
            self.send(m.SessionStatus(session.session_id, m.SessionStatus.INVALID))
            return
        session.options.update(cfg.options)
        self.send(m.SessionStatus(session.session_id, m.SessionStatus.UPDATED))

    def _on_destroy(self, msg: m.DestroySession) -> None:
        session = self._session_for(msg.session_id)
        if session is None:
            self.send(m.SessionStatus(msg.session_id, m.SessionStatus.INVALID))
            return
        self.router.remove_session(session)
        self.session = None
        self.send(m.SessionStatus(session.session_id, m.SessionStatus.DESTROYED))
        self.close()

    def _lease_set_session(self, session_id: int, what: str) -> RouterSession | None:
        session = self._session_for(session_id)
        if session is None:
            self.disconnect(f"{what} for unknown session {session_id}")
        return session

    def _publish(self, session: RouterSession, ls: m.AnyLeaseSet, reason: str | None) -> None:
        if reason is not None:
            self.disconnect(f"invalid {type(ls).__name__}: {reason}")
            return
        if session.lease_set is None:
            log.debug("session %d published a %s", session.session_id, type(ls).__name__)
        session.lease_set = ls

    def _on_create_lease_set(self, msg: m.CreateLeaseSet2) -> None:
        session = self._lease_set_session(msg.session_id, "CreateLeaseSet2")
        if session is not None:
            now_s = self.router.wall_ms() // 1000
            self._publish(session, msg.lease_set, check_lease_set(msg, session.hash, now_s))

    def _on_create_other_lease_set(self, msg: m.CreateLeaseSet2Other) -> None:
        session = self._lease_set_session(msg.session_id, "CreateLeaseSet2")
        if session is not None:
            now_s = self.router.wall_ms() // 1000
            self._publish(session, msg.lease_set, check_other_lease_set(msg, session.hash, now_s))

    def _on_create_lease_set1(self, msg: m.CreateLeaseSet) -> None:
        """The legacy CreateLeaseSet (Java's default for ElGamal-only sessions): a LeaseSet v1
        after a 20-byte (unused) revocation key and the 256-byte ElGamal private key."""
        session = self._lease_set_session(msg.session_id, "CreateLeaseSet")
        if session is None:
            return
        try:
            ls, used = m.LeaseSet1.from_bytes(msg.lease_set)
        except DataFormatError as exc:
            self.disconnect(f"malformed message of type 4: {exc}")
            return
        if used != len(msg.lease_set):
            self.disconnect(f"malformed message of type 4: {len(msg.lease_set) - used} extra bytes")
            return
        now_s = self.router.wall_ms() // 1000
        reason = check_lease_set1(ls, msg.private_key, session.hash, now_s)
        self._publish(session, ls, reason)

    def _on_send(self, msg: m.SendMessage | m.SendMessageExpires) -> None:
        session = self._session_for(msg.session_id)
        if session is None:
            code = STATUS_BAD_SESSION
        elif (
            isinstance(msg, m.SendMessageExpires)
            and msg.expiration_ms
            and msg.expiration_ms < self.router.wall_ms()
        ):
            code = STATUS_EXPIRED
        else:
            code = self.router.route(session, msg.destination, msg.payload)
        if msg.nonce == 0:
            return
        sid = msg.session_id
        mid = self.router.next_message_id()
        size = len(msg.payload)
        if session is not None and not session.final_status_only and code == STATUS_SUCCESS:
            self.send(m.MessageStatus(sid, mid, STATUS_ACCEPTED, size, msg.nonce))
        self.send(m.MessageStatus(sid, mid, code, size, msg.nonce))

    def _on_receive_begin(self, msg: m.ReceiveMessageBegin) -> None:
        """Send the held payload (Java: an unknown id is logged and ignored)."""
        session = self._session_for(msg.session_id)
        blob = self._held.get(msg.message_id)
        if session is None or blob is None:
            log.debug("ReceiveMessageBegin for unknown message %d", msg.message_id)
            return
        self.send(m.MessagePayload(session.session_id, msg.message_id, blob))

    def _on_receive_end(self, msg: m.ReceiveMessageEnd) -> None:
        """Forget the held payload."""
        self._held.release(msg.message_id)

    def _on_blinding_info(self, msg: m.BlindingInfo) -> None:
        """Remember how to reach a blinded Destination (no reply, as in Java)."""
        if not self.router.blinding.add(msg):
            log.info("BlindingInfo by hash or host name is not supported (ignored)")

    def _on_ignored(self, msg: m.Message) -> None:
        """SetDate and ReportAbuse from a client: Java's router ignores both."""
        log.debug("ignoring %s from client %s", type(msg).__name__, self.peer)

    def _on_host_lookup(self, msg: m.HostLookup) -> None:
        self.send(host_reply(self.router, msg, self.router.blinding))

    def _on_dest_lookup(self, msg: m.DestLookup) -> None:
        dest = self.router.find(msg.hash)
        self.send(m.DestReply(dest, None) if dest is not None else m.DestReply(None, msg.hash))

    def _on_bandwidth(self, msg: m.GetBandwidthLimits) -> None:
        limits = _DEFAULT_LIMITS
        rate = self.router.impairments.rate
        if rate is not None:
            kbps = max(1, int(rate // 1024))
            limits = (kbps, kbps, *limits[2:])
        self.send(m.BandwidthLimits(limits))

    def _on_disconnect(self, msg: m.Disconnect) -> None:
        log.debug("client %s disconnected: %s", self.peer, msg.reason)
        self.close()


_HANDLERS: dict[type[m.Message], Callable[[ClientConnection, Any], None]] = {
    m.GetDate: ClientConnection._on_get_date,
    m.CreateSession: ClientConnection._on_create_session,
    m.ReconfigureSession: ClientConnection._on_reconfigure,
    m.DestroySession: ClientConnection._on_destroy,
    m.CreateLeaseSet2: ClientConnection._on_create_lease_set,
    m.CreateLeaseSet2Other: ClientConnection._on_create_other_lease_set,
    m.CreateLeaseSet: ClientConnection._on_create_lease_set1,
    m.ReceiveMessageBegin: ClientConnection._on_receive_begin,
    m.ReceiveMessageEnd: ClientConnection._on_receive_end,
    m.BlindingInfo: ClientConnection._on_blinding_info,
    m.SetDate: ClientConnection._on_ignored,
    m.ReportAbuse: ClientConnection._on_ignored,
    m.SendMessage: ClientConnection._on_send,
    m.SendMessageExpires: ClientConnection._on_send,
    m.HostLookup: ClientConnection._on_host_lookup,
    m.DestLookup: ClientConnection._on_dest_lookup,
    m.GetBandwidthLimits: ClientConnection._on_bandwidth,
    m.Disconnect: ClientConnection._on_disconnect,
}
