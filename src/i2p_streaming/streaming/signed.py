"""Our signed packets (SYN, SYN reply, CLOSE) as the send path (``sending.py``) builds them.

A pure function of its arguments, kept apart from ``sending.py`` (which decides what goes
and when) so that module stays under the size limit.
"""

from __future__ import annotations

import struct

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.packet import NO_ACK, SYNCHRONIZE, Flags, Packet

__all__ = ["encode_signed_packet"]

_HASH_WORDS = struct.Struct(">8I")
_PROFILE_INTERACTIVE = int(Flags.PROFILE_INTERACTIVE)


def encode_signed_packet(
    keys: PrivateKeys,
    options: StreamOptions,
    head: tuple[int, int, int, int, list[int], int, int],
    payload: bytes,
    initiator_to: bytes | None,
) -> tuple[bytes, int]:
    """Encode and sign one packet; return ``(data, flags as sent)``.

    ``head``: (peer's stream id, our stream id, sequence number, ack through, NACKs, flags,
    DELAY). ``initiator_to``: the peer's destination hash when this is our first SYN (its
    NACK field then carries the hash, the ack and peer id are 0 and NO_ACK is set)."""
    sid, own, seq, ack, nacks, flags, delay = head
    words: tuple[int, ...] = tuple(nacks)
    origin, offline, mtu = None, None, None
    if flags & SYNCHRONIZE:
        origin, offline, mtu = keys.destination, keys.offline, options.max_message_size
        if options.interactive:
            flags |= _PROFILE_INTERACTIVE
        if initiator_to is not None:
            sid, ack, words = 0, 0, _HASH_WORDS.unpack(initiator_to)
            flags |= NO_ACK
    pkt = Packet(sid, own, seq, ack, words, 1, flags, delay, origin, mtu, offline, payload=payload)
    return pkt.encode_signed(keys), flags
