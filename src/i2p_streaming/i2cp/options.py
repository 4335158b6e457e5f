"""Session options sent to the router in the SessionConfig, and the ones kept client-side.

=============================== ========= ===============================================
option                          default   meaning
=============================== ========= ===============================================
``i2cp.fastReceive``            ``true``  router pushes MessagePayload; required (legacy
                                          receive is not implemented)
``i2cp.messageReliability``     ``none``  only a final MessageStatus, and only for nonce != 0
``i2cp.leaseSetEncType``        ``4``     ECIES-X25519 lease-set key (the only one supported)
``i2cp.leaseSetType``           ``3``     LeaseSet2 (the only one supported)
=============================== ========= ===============================================

Anything else (``inbound.length``, ``outbound.quantity``, ``i2cp.dontPublishLeaseSet``, …) is
passed through. Client-side options (:data:`CLIENT_SIDE_OPTIONS` and ``i2p.streaming.*``) are
stripped. ``i2cp.username``/``i2cp.password`` go into GetDate and, like the Java client does,
also stay in the SessionConfig (needed by routers up to 0.9.10).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["CLIENT_SIDE_OPTIONS", "DEFAULT_OPTIONS", "router_options"]

DEFAULT_OPTIONS: Mapping[str, str] = {
    "i2cp.fastReceive": "true",
    "i2cp.messageReliability": "none",
    "i2cp.leaseSetEncType": "4",
    "i2cp.leaseSetType": "3",
}

#: Options the router never sees (Java ``I2CPMessageProducer`` strips the same kind).
CLIENT_SIDE_OPTIONS = frozenset(
    {
        "i2cp.tcp.host",
        "i2cp.tcp.port",
        "i2cp.SSL",
        "i2cp.gzip",
        "i2cp.closeIdleTime",
        "i2cp.closeOnIdle",
        "i2cp.reduceIdleTime",
        "i2cp.reduceOnIdle",
        "i2cp.reduceQuantity",
        "i2cp.leaseSetKey",
        "i2cp.leaseSetPrivateKey",
        "i2cp.leaseSetSigningPrivateKey",
        "i2cp.encryptLeaseSet",
    }
)
_CLIENT_SIDE_PREFIXES = ("i2p.streaming.",)

_FIXED = {
    "i2cp.fastReceive": "true",
    "i2cp.leaseSetEncType": "4",
    "i2cp.leaseSetType": "3",
}


def router_options(options: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the options to send in a SessionConfig: defaults, then ``options``, minus the
    client-side ones.

    Raises ``ValueError`` for non-string keys/values, or a value this client cannot honour
    (``i2cp.fastReceive`` other than true, lease-set type other than 3, encryption type other
    than 4).
    """
    result = dict(DEFAULT_OPTIONS)
    for key, value in (options or {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError(f"I2CP option {key!r}={value!r}: keys and values must be str")
        if key in CLIENT_SIDE_OPTIONS or key.startswith(_CLIENT_SIDE_PREFIXES):
            continue
        fixed = _FIXED.get(key)
        if fixed is not None and value.strip().lower() != fixed:
            raise ValueError(f"I2CP option {key}={value!r} is not supported (only {fixed!r})")
        result[key] = value
    return result
