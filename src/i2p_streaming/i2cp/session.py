"""Sans-I/O I2CP client session: handshake, lease sets, sends, statuses, lookups, teardown.

No sockets, no clock, no threads. The shell feeds router bytes with :meth:`I2CPSession.receive_data`
and EOF with :meth:`I2CPSession.receive_eof`, calls the request methods, and after every input
pulls :meth:`I2CPSession.data_to_send`, :meth:`I2CPSession.next_event` until ``None``, and
:meth:`I2CPSession.get_timer` (arming :meth:`I2CPSession.handle_timer`). ``now`` is seconds on
any monotonic clock; router time is derived from SetDate as ``now * 1000 + offset``.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from i2p_streaming.data import Destination, PrivateKeys, b32_address_to_hash, is_b32_address
from i2p_streaming.errors import DataFormatError, InvalidStateError
from i2p_streaming.i2cp import events as ev
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.frames import DEFAULT_MAX_BODY, Frame, FrameReader
from i2p_streaming.i2cp.leasebuilder import LeaseBuilder, auto_enc_types, names_lease_set
from i2p_streaming.i2cp.options import ENC_TYPE_OPTION, parse_enc_types, router_options
from i2p_streaming.i2cp.payload import DEFAULT_MAX_SIZE, unwrap, wrap
from i2p_streaming.i2cp.pending import Pending
from i2p_streaming.i2cp.state import (
    API_VERSION,
    HOST_LOOKUP_VERSION,
    HOST_REPLY_TEXT,
    PROTOCOL_BYTE,
    SessionState,
    version_tuple,
)

__all__ = ["API_VERSION", "PROTOCOL_BYTE", "I2CPSession", "SessionState"]

_PAYLOAD_HEAD = struct.Struct(">HII")


class I2CPSession:
    """One I2CP session on one router connection (the client side).

    ``options`` are merged over the defaults of :func:`~i2p_streaming.i2cp.options.router_options`
    (``ValueError`` for unsupported values). Without ``i2cp.leaseSetEncType`` the session picks
    its lease-set encryption types when the router's SetDate arrives: ``6,4`` (ML-KEM-768
    hybrid, then X25519) from API 0.9.67 on, else ``4``; ``enc_types`` tells the choice. When
    the router refuses that choice before our LeaseSet was proven (SessionStatus Invalid for
    CreateSession, a Disconnect naming crypto types or the lease set), ``enc_fallback`` is the
    value to open a new session with (``"4"``); it stays None when the user set the option.
    ``username``/``password`` are sent in GetDate.
    Pending status waits and lookups are bounded by ``max_pending``; beyond it, requests raise
    :class:`~i2p_streaming.errors.InvalidStateError` (as do requests the state does not allow).
    """

    def __init__(
        self,
        keys: PrivateKeys,
        options: Mapping[str, str] | None = None,
        *,
        version: str = API_VERSION,
        username: str | None = None,
        password: str | None = None,
        max_frame_body: int = DEFAULT_MAX_BODY,
        max_payload_size: int = DEFAULT_MAX_SIZE,
        max_pending: int = 4096,
    ) -> None:
        self.keys = keys
        self.options = router_options(options)
        #: The lease-set encryption types, in LeaseSet order; () until chosen (see above).
        self.enc_types: tuple[int, ...] = ()
        self._auto_enc = ENC_TYPE_OPTION not in self.options
        if not self._auto_enc:
            self.enc_types = parse_enc_types(self.options[ENC_TYPE_OPTION])
        self.enc_fallback: str | None = None
        self.version = version
        self.username = username if username is not None else self.options.get("i2cp.username")
        self.password = password if password is not None else self.options.get("i2cp.password")
        self.max_payload_size = max_payload_size
        self.max_pending = max_pending
        self.state = SessionState.IDLE
        self.session_id: int | None = None
        self.router_version: str | None = None
        self.offset_ms: float | None = None
        self.end: ev.SessionEnded | None = None
        self.dropped_payloads = 0
        self.unmatched_statuses = 0
        self._reader = FrameReader(max_frame_body)
        self._out: list[bytes] = []
        self._out_size = 0
        self._events: deque[ev.Event] = deque()
        unpublished = self.options.get("i2cp.dontPublishLeaseSet", "").lower() == "true"
        self._leases = LeaseBuilder(keys, self.enc_types, unpublished)
        self._payload_seen = False  # a payload reached us: the router took our LeaseSet
        self._pending = Pending()
        self._reconfigure_pending = False
        self._pending_options: dict[str, str] | None = None

    # -- properties ------------------------------------------------------------------------

    @property
    def destination(self) -> Destination:
        """Our Destination."""
        return self.keys.destination

    @property
    def pending_output(self) -> int:
        """Bytes queued by the core and not yet taken with :meth:`data_to_send`."""
        return self._out_size

    @property
    def lease_sets_sent(self) -> int:
        """How many CreateLeaseSet2 messages were queued so far."""
        return self._leases.sent

    def router_time_ms(self, now: float) -> int:
        """Router time in ms at local ``now`` (local time if no SetDate yet)."""
        return int(now * 1000 + (self.offset_ms or 0.0))

    # -- outputs ---------------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Take every byte queued for the router (possibly ``b""``)."""
        if not self._out:
            return b""
        data = self._out[0] if len(self._out) == 1 else b"".join(self._out)
        self._out.clear()
        self._out_size = 0
        return data

    def next_event(self) -> ev.Event | None:
        """Pop the next event, or ``None``."""
        return self._events.popleft() if self._events else None

    def get_timer(self) -> float | None:
        """The earliest deadline (status or lookup timeout), or ``None``."""
        return self._pending.deadline()

    def handle_timer(self, now: float) -> None:
        """Expire status waits and lookups whose deadline is <= ``now``.

        Queues ``SendStatus(FAILED, status=None)`` / ``LookupResult(destination=None)`` events.
        """
        self._events.extend(self._pending.expire(now))

    def _queue(self, msg: m.Message) -> None:
        self._queue_raw(m.encode_message(msg))

    def _queue_raw(self, data: bytes) -> None:
        self._out.append(data)
        self._out_size += len(data)

    # -- requests --------------------------------------------------------------------------

    def start(self) -> None:
        """Queue the protocol byte 0x2A and GetDate (with auth when configured).

        Raises :class:`InvalidStateError` when already started.
        """
        if self.state is not SessionState.IDLE:
            raise InvalidStateError("I2CP session already started")
        auth = None
        if self.username is not None or self.password is not None:
            auth = {"i2cp.username": self.username or "", "i2cp.password": self.password or ""}
        self._queue_raw(PROTOCOL_BYTE)
        self._queue(m.GetDate(self.version, auth))
        self.state = SessionState.HANDSHAKE

    def _require_created(self, what: str) -> int:
        if self.state is not SessionState.CREATED or self.session_id is None:
            raise InvalidStateError(f"cannot {what}: I2CP session is {self.state.value}")
        return self.session_id

    def send_message(
        self,
        destination: Destination,
        data: bytes | bytearray | memoryview,
        *,
        protocol: int,
        src_port: int = 0,
        dst_port: int = 0,
        compress: bool = False,
        want_status: bool = False,
        now: float = 0.0,
        timeout: float = 60.0,
        flags: int = 0,
        expiration_ms: int = 0,
    ) -> int:
        """Queue a SendMessage (or SendMessageExpires when ``flags``/``expiration_ms`` are set).

        Returns the nonce: 0 when ``want_status`` is false (the router then sends no status),
        else a fresh non-zero nonce whose final :class:`SendStatus` event will follow (or a
        FAILED one ``timeout`` seconds after ``now``). Raises :class:`InvalidStateError` when
        the session is not established or too many statuses are pending, ``ValueError`` for bad
        arguments (or a payload too large for one frame).
        """
        sid = self._require_created("send")
        blob = wrap(
            data, protocol=protocol, src_port=src_port, dst_port=dst_port, compress=compress
        )
        expires = bool(flags or expiration_ms)
        if want_status:
            if len(self._pending.sends) >= self.max_pending:
                raise InvalidStateError(f"too many sends awaiting status ({self.max_pending})")
            nonce = self._pending.new_nonce()
        else:
            nonce = 0
        frame = m.send_message_frame(
            sid,
            destination.to_bytes(),
            blob,
            nonce,
            expires=expires,
            flags=flags,
            expiration_ms=expiration_ms,
        )
        if nonce:
            self._pending.add_send(nonce, now + timeout)
        self._out.append(frame)
        self._out_size += len(frame)
        return nonce

    def lookup(self, name: str, *, now: float, timeout: float = 30.0) -> int:
        """Queue a lookup of ``name`` (``xxx.b32.i2p`` by hash, else by host name).

        Returns the request id; a :class:`LookupResult` with the same id follows (a failure
        one after ``timeout``). Uses DestLookup for b32 names on routers older than 0.9.11.
        Raises :class:`InvalidStateError` (no session / too many lookups) or ``ValueError``
        (bad name).
        """
        sid = self._require_created("look up a destination")
        if len(self._pending.lookups) >= self.max_pending:
            raise InvalidStateError(f"too many lookups pending ({self.max_pending})")
        key: bytes | None = None
        if is_b32_address(name):
            key = b32_address_to_hash(name)
        elif not name or len(name.encode()) > 255:
            raise ValueError(f"host name {name!r} must be 1-255 bytes")
        rid = self._pending.add_lookup(name, key, now + timeout)
        version = version_tuple(self.router_version)
        if version is not None and version < HOST_LOOKUP_VERSION:
            if key is None:
                self._pending.lookups.pop(rid)
                self._events.append(
                    ev.LookupResult(rid, name, None, "router too old for host name lookups")
                )
            else:
                self._queue(m.DestLookup(key))
            return rid
        timeout_ms = max(0, min(int(timeout * 1000), 0xFFFFFFFF))
        if key is not None:
            self._queue(m.HostLookup(sid, rid, timeout_ms, m.HostLookup.BY_HASH, key))
        else:
            self._queue(m.HostLookup(sid, rid, timeout_ms, m.HostLookup.BY_NAME, name))
        return rid

    def reconfigure(self, options: Mapping[str, str], *, now: float) -> None:
        """Queue a ReconfigureSession with our options updated by ``options``.

        A :class:`Reconfigured` event follows. Raises :class:`InvalidStateError` when another
        reconfiguration is pending or there is no session, ``ValueError`` for bad options.
        """
        sid = self._require_created("reconfigure")
        if self._reconfigure_pending:
            raise InvalidStateError("a reconfiguration is already pending")
        merged = router_options({**self.options, **options})
        try:
            config = m.SessionConfig.create(self.keys, merged, self.router_time_ms(now))
        except DataFormatError as exc:
            raise ValueError(f"bad I2CP options: {exc}") from None
        self._queue(m.ReconfigureSession(sid, config))
        self._reconfigure_pending = True
        self._pending_options = merged

    def request_bandwidth_limits(self) -> None:
        """Queue GetBandwidthLimits; a :class:`BandwidthLimitsReceived` event follows."""
        self._require_created("ask for bandwidth limits")
        self._queue(m.GetBandwidthLimits())

    def destroy(self) -> None:
        """Queue DestroySession (state CLOSING). Without a session, end at once (CLOSED).

        The session ends with SessionStatus(0), Disconnect or EOF; the shell should close the
        socket after a short wait and then call :meth:`receive_eof`.
        """
        if self.state is SessionState.CREATED and self.session_id is not None:
            self._queue(m.DestroySession(self.session_id))
            self.state = SessionState.CLOSING
        elif self.state is not SessionState.CLOSED and self.state is not SessionState.CLOSING:
            self._end(ev.EndReason.CLOSED, "closed before the session was established")

    # -- inputs ----------------------------------------------------------------------------

    def receive_eof(self) -> None:
        """The router closed the connection: end the session (EOF, or CLOSED if destroying)."""
        if self.state is SessionState.CLOSED:
            return
        err = self._reader.eof_error()
        if err is not None:
            self._end(ev.EndReason.PROTOCOL_ERROR, err.reason)
        elif self.state is SessionState.CLOSING:
            self._end(ev.EndReason.CLOSED, "session destroyed by us")
        else:
            self._end(ev.EndReason.EOF, "the router closed the connection")

    def receive_data(self, data: bytes | bytearray | memoryview, now: float) -> None:
        """Feed bytes from the router; queues events and replies. Never raises on input."""
        if self.state is SessionState.CLOSED:
            return
        reader = self._reader
        reader.feed(data)
        while True:
            frame = reader.next_frame()
            if frame is None:
                return
            if isinstance(frame, Frame):
                self._dispatch(frame, now)
            else:
                self._end(ev.EndReason.PROTOCOL_ERROR, frame.reason)
            if self._closed():
                return

    def _dispatch(self, frame: Frame, now: float) -> None:
        if frame.msg_type == m.MessagePayload.TYPE:
            self._on_payload(frame.body)
            return
        try:
            msg = m.decode_message(frame.msg_type, frame.body)
        except DataFormatError as exc:
            self._events.append(ev.ProtocolViolation(f"malformed message: {exc}"))
            return
        handler = _HANDLERS.get(type(msg))
        if handler is not None:
            handler(self, msg, now)
        elif isinstance(msg, m.UnknownMessage):
            self._events.append(ev.UnknownMessageReceived(msg.msg_type, len(msg.body)))
        else:
            self._violation(f"unexpected {type(msg).__name__} from the router")

    def _closed(self) -> bool:
        return self.state is SessionState.CLOSED

    def _violation(self, reason: str) -> None:
        self._events.append(ev.ProtocolViolation(reason))

    def _end(self, reason: ev.EndReason, message: str) -> None:
        self.state = SessionState.CLOSED
        self.end = ev.SessionEnded(reason, message)
        self._pending.clear()
        self._events.append(self.end)

    def _on_set_date(self, msg: m.SetDate, now: float) -> None:
        self.offset_ms = msg.date_ms - now * 1000
        if msg.version is not None:
            self.router_version = msg.version
        self._events.append(ev.RouterDate(msg.date_ms, msg.version, self.offset_ms))
        if self.state is SessionState.HANDSHAKE:
            if not self.enc_types:
                self.options[ENC_TYPE_OPTION] = auto_enc_types(version_tuple(msg.version))
                self.enc_types = parse_enc_types(self.options[ENC_TYPE_OPTION])
                self._leases.use_types(self.enc_types)
            try:
                config = m.SessionConfig.create(self.keys, self.options, msg.date_ms)
            except DataFormatError as exc:
                self._end(ev.EndReason.CLOSED, f"cannot encode the session options: {exc}")
                return
            self._queue(m.CreateSession(config))
            self.state = SessionState.CREATING

    def _on_session_status(self, msg: m.SessionStatus, now: float) -> None:
        status = msg.status
        if self.state is SessionState.CREATING:
            if status == m.SessionStatus.CREATED:
                self.session_id = msg.session_id
                self.state = SessionState.CREATED
                self._events.append(ev.SessionCreated(msg.session_id))
                return
        elif msg.session_id != self.session_id:
            self._violation(f"SessionStatus for unknown session {msg.session_id}")
            return
        elif status == m.SessionStatus.UPDATED or (
            status == m.SessionStatus.INVALID and self._reconfigure_pending
        ):
            if self._reconfigure_pending:
                self._reconfigure_pending = False
                ok = status == m.SessionStatus.UPDATED
                if ok and self._pending_options is not None:
                    self.options = self._pending_options
                self._events.append(
                    ev.Reconfigured(ok, "" if ok else "router rejected the options")
                )
            return
        if status == m.SessionStatus.DESTROYED:
            if self.state is SessionState.CLOSING:
                self._end(ev.EndReason.CLOSED, "session destroyed by us")
            else:
                self._end(ev.EndReason.DESTROYED, "the router destroyed the session")
        elif status == m.SessionStatus.INVALID:
            creating = self.state is SessionState.CREATING  # the answer to our options
            self._refused(ev.EndReason.INVALID, "the router found the session invalid", creating)
        elif status == m.SessionStatus.REFUSED:
            self._refused(ev.EndReason.REFUSED, "the router refused the session", False)
        else:
            self._violation(f"unexpected SessionStatus {status} in state {self.state.value}")

    def _on_disconnect(self, msg: m.Disconnect, now: float) -> None:
        text = f"the router disconnected: {msg.reason}"
        self._refused(ev.EndReason.DISCONNECT, text, names_lease_set(msg.reason))

    def _refused(self, reason: ev.EndReason, what: str, pointed: bool) -> None:
        """End the session the router refused: ``what`` plus the lease-set hint; the fallback
        types when the refusal ``pointed`` at the types we chose ourselves."""
        if pointed and self._auto_enc:
            self.enc_fallback = self._leases.fallback(self._payload_seen)
        value = self.options.get(ENC_TYPE_OPTION, "")
        self._end(reason, what + self._leases.refusal_hint(value, self._payload_seen))

    def _on_request_leaseset(self, msg: m.RequestVariableLeaseSet, now: float) -> None:
        if self.state is not SessionState.CREATED or msg.session_id != self.session_id:
            self._violation(f"RequestVariableLeaseSet for session {msg.session_id} ignored")
            return
        built = self._leases.build(msg, self.router_time_ms(now) // 1000)
        if isinstance(built, str):
            self._violation(built)
            return
        self._queue(built)
        ls, first = built.lease_set, self._leases.sent == 1
        self._events.append(ev.LeaseSetCreated(ls.published, len(ls.leases), first))

    def _on_payload(self, body: bytes) -> None:
        if len(body) < _PAYLOAD_HEAD.size:
            self._violation(f"MessagePayload: body of {len(body)} bytes is truncated")
            return
        _sid, message_id, length = _PAYLOAD_HEAD.unpack_from(body)
        if length != len(body) - _PAYLOAD_HEAD.size:
            self._violation(f"MessagePayload: payload length {length} != {len(body) - 10}")
            return
        try:
            with memoryview(body) as view:
                got = unwrap(view[_PAYLOAD_HEAD.size :], max_size=self.max_payload_size)
        except DataFormatError as exc:
            self.dropped_payloads += 1
            self._events.append(ev.PayloadDropped(message_id, str(exc)))
            return
        self._payload_seen = True
        self._events.append(
            ev.PayloadReceived(got.protocol, got.src_port, got.dst_port, got.data, message_id)
        )

    def _on_message_status(self, msg: m.MessageStatus, now: float) -> None:
        nonce = msg.nonce
        if nonce == 0 or nonce not in self._pending.sends:
            self.unmatched_statuses += 1
            return
        outcome = ev.classify_status(msg.status)
        if outcome is not ev.SendOutcome.ACCEPTED:
            del self._pending.sends[nonce]
        text = ev.STATUS_TEXT.get(msg.status, f"unknown status {msg.status}")
        self._events.append(ev.SendStatus(nonce, outcome, msg.status, text, msg.message_id))

    def _on_host_reply(self, msg: m.HostReply, now: float) -> None:
        entry = self._pending.lookups.pop(msg.request_id, None)
        if entry is None:
            self._violation(f"HostReply for unknown request {msg.request_id}")
            return
        name, _, key = entry
        dest = msg.destination
        if msg.result != 0 or dest is None:
            reason = HOST_REPLY_TEXT.get(msg.result, f"lookup failed (code {msg.result})")
            self._events.append(ev.LookupResult(msg.request_id, name, None, reason))
        elif key is not None and dest.hash != key:
            reason = "the router returned a destination with a different hash"
            self._events.append(ev.LookupResult(msg.request_id, name, None, reason))
        else:
            self._events.append(ev.LookupResult(msg.request_id, name, dest))

    def _on_dest_reply(self, msg: m.DestReply, now: float) -> None:
        key = msg.destination.hash if msg.destination is not None else msg.hash
        matched = self._pending.lookups_for(key)
        if not matched:
            self._violation("DestReply for a hash we did not ask about")
            return
        for rid in matched:
            name = self._pending.lookups.pop(rid)[0]
            reason = "" if msg.destination is not None else "not found"
            self._events.append(ev.LookupResult(rid, name, msg.destination, reason))

    def _on_bandwidth(self, msg: m.BandwidthLimits, now: float) -> None:
        self._events.append(ev.BandwidthLimitsReceived(msg.limits))


_HANDLERS: dict[type[m.Message], Callable[[I2CPSession, Any, float], None]] = {
    m.SetDate: I2CPSession._on_set_date,
    m.SessionStatus: I2CPSession._on_session_status,
    m.Disconnect: I2CPSession._on_disconnect,
    m.RequestVariableLeaseSet: I2CPSession._on_request_leaseset,
    m.MessageStatus: I2CPSession._on_message_status,
    m.HostReply: I2CPSession._on_host_reply,
    m.DestReply: I2CPSession._on_dest_reply,
    m.BandwidthLimits: I2CPSession._on_bandwidth,
}
