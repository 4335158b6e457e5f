"""Datagrams on an I2CP session, sans-I/O: the four formats (:mod:`.codec`), the bounded
Datagram2 replay cache (:mod:`.replay`) and the per-session core (:mod:`.core`) that checks
what arrives and queues what is sent. The asyncio shell is :mod:`i2p_streaming.aio.datagrams`.
"""

from i2p_streaming.datagrams.codec import (
    MAX_DATAGRAM_SIZE,
    RECOMMENDED_MAX_PAYLOAD,
    Datagram2Parts,
    DatagramKind,
    encode_datagram2,
    encode_datagram3,
    encode_repliable,
    max_payload,
    overhead,
    parse_datagram2,
    parse_datagram3,
    parse_repliable,
    verify_datagram2,
    verify_repliable,
)
from i2p_streaming.datagrams.core import (
    DROP_REASONS,
    DatagramCore,
    DatagramReceived,
    DatagramTooLarge,
    OutgoingDatagram,
)
from i2p_streaming.datagrams.replay import ReplayCache

__all__ = [
    "DROP_REASONS",
    "MAX_DATAGRAM_SIZE",
    "RECOMMENDED_MAX_PAYLOAD",
    "Datagram2Parts",
    "DatagramCore",
    "DatagramKind",
    "DatagramReceived",
    "DatagramTooLarge",
    "OutgoingDatagram",
    "ReplayCache",
    "encode_datagram2",
    "encode_datagram3",
    "encode_repliable",
    "max_payload",
    "overhead",
    "parse_datagram2",
    "parse_datagram3",
    "parse_repliable",
    "verify_datagram2",
    "verify_repliable",
]
