"""Our LeaseSet2s for the router's RequestVariableLeaseSet (:class:`LeaseBuilder`, sans-I/O).

One X25519 pair per encryption type of ``i2cp.leaseSetEncType`` (as Java), made on first use
and kept for the session; the ML-KEM hybrid types (5, 6, 7) publish their X25519 key and the
router does the ML-KEM part per handshake. A router that refuses the ML-KEM types we chose
ourselves gets :meth:`LeaseBuilder.fallback` (``"4"``) to open again with.
"""

from __future__ import annotations

import re

from i2p_streaming.data import (
    EncryptionKey,
    Lease2,
    LeaseSet2,
    PrivateKeys,
    generate_x25519,
)
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.options import ENC_TYPE_OPTION, PQ_API_VERSION, PQ_ENC_TYPES

__all__ = ["LeaseBuilder", "auto_enc_types", "names_lease_set"]

_ML_KEM_TYPES = (5, 6, 7)
#: What a router's reason says when it refuses our lease-set types or our LeaseSet.
_LEASE_SET_WORDS = re.compile(r"crypto|encrypt|lease ?set|\bLS\b|ml-?kem", re.IGNORECASE)


def auto_enc_types(router_api: tuple[int, ...] | None) -> str:
    """``i2cp.leaseSetEncType`` when the user set none: the ML-KEM hybrid beside X25519 from
    router API 0.9.67 (the first routers that accept it) on, else X25519 alone."""
    return PQ_ENC_TYPES if router_api is not None and router_api >= PQ_API_VERSION else "4"


def names_lease_set(reason: str) -> bool:
    """Whether a router's Disconnect ``reason`` points at our lease-set types or LeaseSet
    (Java at CreateSession: "Unsupported crypto type: 6" or "...: MLKEM768_X25519" when its
    ML-KEM is unavailable; reading CreateLeaseSet2: "Unsupported encryption type: 6", "Invalid
    leaseset: ...", "... mismatch in LS"), not at the Destination's key certificate."""
    return "key certificate" not in reason and _LEASE_SET_WORDS.search(reason) is not None


class LeaseBuilder:
    """Builds and signs each CreateLeaseSet2 for one session."""

    __slots__ = ("_enc_keys", "_keys", "_last_published", "_unpublished", "enc_types", "sent")

    def __init__(self, keys: PrivateKeys, enc_types: tuple[int, ...], unpublished: bool) -> None:
        self._keys = keys
        self.enc_types = enc_types  #: our lease-set encryption types, most preferred first
        self._unpublished = unpublished
        self._enc_keys: dict[int, tuple[bytes, bytes]] = {}  # type -> (private, public)
        self._last_published = 0
        self.sent = 0  #: CreateLeaseSet2 messages built so far

    def use_types(self, enc_types: tuple[int, ...]) -> None:
        """Publish ``enc_types`` (chosen once the router's version is known)."""
        self.enc_types = enc_types

    def build(self, msg: m.RequestVariableLeaseSet, router_now_s: int) -> m.CreateLeaseSet2 | str:
        """The CreateLeaseSet2 answering ``msg``, or why none can be built (the router's
        leases do not form a valid LeaseSet2)."""
        published = max(router_now_s, self._last_published + 1)
        leases = tuple(Lease2.from_lease(lease) for lease in msg.leases)
        expires = max((lease.end for lease in leases), default=published + 600)
        keys = self._pairs()
        try:
            lease_set = LeaseSet2.build(
                self._keys,
                encryption_keys=[EncryptionKey(t, public) for t, _, public in keys],
                leases=leases,
                published=published,
                expires=max(expires, published + 1),
                unpublished=self._unpublished,
            )
        except (DataFormatError, ValueError) as exc:
            return f"cannot build a lease set from the router's leases: {exc}"
        self._last_published = published
        self.sent += 1
        return m.CreateLeaseSet2(
            msg.session_id, lease_set, tuple((t, private) for t, private, _ in keys)
        )

    def refusal_hint(self, option_value: str, proven: bool) -> str:
        """A note naming i2cp.leaseSetEncType for a session the router ended before our
        LeaseSet was ``proven`` (a payload reached us) while we offer an ML-KEM type (a router
        before API 0.9.67 refuses those); empty otherwise."""
        if not self._may_be_refused(proven):
            return ""
        return (
            f" ({ENC_TYPE_OPTION}={option_value}: this router may not support the ML-KEM"
            f" types; retry with {ENC_TYPE_OPTION}=4)"
        )

    def fallback(self, proven: bool) -> str | None:
        """The ``i2cp.leaseSetEncType`` to open again with (``"4"``, X25519 alone) after the
        router refused this session before our LeaseSet was ``proven`` while we offer an ML-KEM
        type; None otherwise. The caller decides that the refusal pointed at the lease set."""
        return "4" if self._may_be_refused(proven) else None

    def _may_be_refused(self, proven: bool) -> bool:
        """Our ML-KEM type may be why the router ended the session: none of our LeaseSets was
        ``proven`` and at most the first one was sent."""
        return not proven and self.sent <= 1 and any(t in _ML_KEM_TYPES for t in self.enc_types)

    def _pairs(self) -> list[tuple[int, bytes, bytes]]:
        """(type, private, public) per lease-set type, in LeaseSet order."""
        for enc_type in self.enc_types:
            if enc_type not in self._enc_keys:
                self._enc_keys[enc_type] = generate_x25519()
        return [(t, *self._enc_keys[t]) for t in self.enc_types]
