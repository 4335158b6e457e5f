"""Codec for the I2CP messages a client sends or receives, in both directions.

Each message is a frozen slotted dataclass with a ``TYPE`` class constant, ``encode() -> bytes``
(the body, without the 5-byte frame header) and a ``decode(body)`` class method. Client-bound
messages encode and router-bound messages decode too, so an embedded router can reuse this
package. :func:`decode_message` maps a frame to a message; it raises only
:class:`~i2p_streaming.errors.DataFormatError`, and returns :class:`UnknownMessage` for types it
does not know.

- :mod:`.base`: the :class:`Message` base and :class:`UnknownMessage`.
- :mod:`.lifecycle`: handshake, create/reconfigure/destroy, status, disconnect, bandwidth.
- :mod:`.leasesets`: RequestVariableLeaseSet, CreateLeaseSet2 (any lease set type), legacy
  CreateLeaseSet; :mod:`.lstypes`: LeaseSet1, EncryptedLeaseSet, MetaLeaseSet.
- :mod:`.legacy`: ReceiveMessageBegin/End (no fast receive), ReportAbuse.
- :mod:`.blinding`: BlindingInfo.
- :mod:`.lookups`: HostLookup/HostReply, DestLookup/DestReply.
- :mod:`.delivery`: SendMessage(Expires) with :func:`send_message_frame`, MessagePayload,
  MessageStatus.
"""

from __future__ import annotations

from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp.frames import encode_frame
from i2p_streaming.i2cp.messages.base import NO_SESSION, Message, UnknownMessage
from i2p_streaming.i2cp.messages.blinding import BlindingInfo
from i2p_streaming.i2cp.messages.delivery import (
    MessagePayload,
    MessageStatus,
    SendMessage,
    SendMessageExpires,
    send_message_frame,
)
from i2p_streaming.i2cp.messages.leasesets import (
    AnyLeaseSet,
    CreateLeaseSet,
    CreateLeaseSet2,
    CreateLeaseSet2Other,
    OtherLeaseSet,
    RequestVariableLeaseSet,
    decode_create_lease_set2,
)
from i2p_streaming.i2cp.messages.legacy import ReceiveMessageBegin, ReceiveMessageEnd, ReportAbuse
from i2p_streaming.i2cp.messages.lifecycle import (
    BandwidthLimits,
    CreateSession,
    DestroySession,
    Disconnect,
    GetBandwidthLimits,
    GetDate,
    ReconfigureSession,
    SessionStatus,
    SetDate,
)
from i2p_streaming.i2cp.messages.lookups import DestLookup, DestReply, HostLookup, HostReply
from i2p_streaming.i2cp.messages.lstypes import (
    EncryptedLeaseSet,
    LeaseSet1,
    MetaEntry,
    MetaLeaseSet,
)
from i2p_streaming.i2cp.sessionconfig import (
    TRANSIENT_KEY_OPTION,
    SessionConfig,
    offline_session_options,
)

__all__ = [
    "NO_SESSION",
    "OtherLeaseSet",
    "AnyLeaseSet",
    "BandwidthLimits",
    "BlindingInfo",
    "CreateLeaseSet",
    "CreateLeaseSet2",
    "CreateLeaseSet2Other",
    "CreateSession",
    "DestLookup",
    "DestReply",
    "DestroySession",
    "Disconnect",
    "EncryptedLeaseSet",
    "GetBandwidthLimits",
    "GetDate",
    "HostLookup",
    "HostReply",
    "LeaseSet1",
    "Message",
    "MessagePayload",
    "MessageStatus",
    "MetaEntry",
    "MetaLeaseSet",
    "ReceiveMessageBegin",
    "ReceiveMessageEnd",
    "ReconfigureSession",
    "ReportAbuse",
    "RequestVariableLeaseSet",
    "SendMessage",
    "SendMessageExpires",
    "SessionConfig",
    "SessionStatus",
    "TRANSIENT_KEY_OPTION",
    "SetDate",
    "UnknownMessage",
    "decode_message",
    "encode_message",
    "offline_session_options",
    "send_message_frame",
]


_MESSAGE_TYPES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        CreateSession,
        ReconfigureSession,
        DestroySession,
        CreateLeaseSet,
        SendMessage,
        ReceiveMessageBegin,
        ReceiveMessageEnd,
        GetBandwidthLimits,
        ReportAbuse,
        SessionStatus,
        MessageStatus,
        BandwidthLimits,
        Disconnect,
        MessagePayload,
        GetDate,
        SetDate,
        DestLookup,
        DestReply,
        SendMessageExpires,
        RequestVariableLeaseSet,
        HostLookup,
        HostReply,
        CreateLeaseSet2,
        BlindingInfo,
    )
}


def decode_message(msg_type: int, body: bytes) -> Message:
    """Decode one frame body. Unknown types give :class:`UnknownMessage`.

    Raises DataFormatError (only) when a known message is malformed.
    """
    cls = _MESSAGE_TYPES.get(msg_type)
    if cls is None:
        return UnknownMessage(msg_type, body)
    try:
        if cls is CreateLeaseSet2:
            return decode_create_lease_set2(body)
        return cls.decode(body)
    except DataFormatError:
        raise
    except (ValueError, IndexError, OverflowError) as exc:  # defensive: structure parsers
        raise DataFormatError(f"{cls.__name__}: {exc}") from None


def encode_message(msg: Message) -> bytes:
    """Return the complete frame (header + body) for ``msg``."""
    if isinstance(msg, UnknownMessage):
        return encode_frame(msg.msg_type, msg.body)
    return encode_frame(msg.TYPE, msg.encode())
