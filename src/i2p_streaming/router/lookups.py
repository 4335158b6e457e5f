"""The embedded router's answers to HostLookup and DestLookup (pure given the router's view).

Names resolve through the router's host table, ordinary ``.b32.i2p`` names and hashes through
its reachable sessions, and "b33" names of encrypted LeaseSets through
:mod:`~i2p_streaming.router.blinding` (result codes 2-6 as Java's router gives them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from i2p_streaming.data import Destination
from i2p_streaming.i2cp import messages as m
from i2p_streaming.router.blinding import BlindingTable, authorize, parse_blinded_name

if TYPE_CHECKING:
    from i2p_streaming.router.server import EmbeddedRouter, RouterSession

__all__ = ["REPLY_FAILURE", "REPLY_LEASESET_LOOKUP_FAILURE", "REPLY_UNSUPPORTED", "host_reply"]

REPLY_FAILURE = 1
REPLY_LEASESET_LOOKUP_FAILURE = 6
REPLY_UNSUPPORTED = 7


def _blinded(
    router: EmbeddedRouter, name: str, blinding: BlindingTable
) -> tuple[int, RouterSession | None] | None:
    """``(code, session)`` for a b33 name, ``None`` when ``name`` is not one."""
    blinded = parse_blinded_name(name)
    if blinded is None:
        return None
    session = router.session_for_signing_key(blinded.signing_key)
    if session is None or not isinstance(session.lease_set, m.EncryptedLeaseSet):
        return REPLY_LEASESET_LOOKUP_FAILURE, None
    code = authorize(blinded, session.options, blinding.get(blinded.signing_key))
    return code, session if code == 0 else None


def host_reply(router: EmbeddedRouter, msg: m.HostLookup, blinding: BlindingTable) -> m.HostReply:
    """The HostReply for ``msg``: 0 with the Destination (and, for types 2-4, the lease set's
    options), 1 not found, 2-6 for encrypted lease sets, 7 for an unknown lookup type."""
    if msg.lookup_type > 4:
        return m.HostReply(msg.session_id, msg.request_id, REPLY_UNSUPPORTED)
    key = msg.key
    dest: Destination | None
    if isinstance(key, str):
        found = _blinded(router, key, blinding)
        if found is not None:
            code, session = found
            if session is None:
                return m.HostReply(msg.session_id, msg.request_id, code)
            dest = session.destination
        else:
            dest = router.resolve(key)
    elif isinstance(key, bytes):
        dest = router.find(key)
    else:
        dest = router.find(key.hash)
    if dest is None:
        return m.HostReply(msg.session_id, msg.request_id, REPLY_FAILURE)
    options: dict[str, str] | None = None
    if msg.lookup_type >= 2:
        target = router.find_session(dest.hash)
        options = dict(target.lease_set.properties) if target and target.lease_set else {}
    return m.HostReply(msg.session_id, msg.request_id, 0, dest, options)
