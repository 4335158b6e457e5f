"""Session options sent to the router in the SessionConfig, and the ones kept client-side.

=============================== ========= ===============================================
option                          default   meaning
=============================== ========= ===============================================
``i2cp.fastReceive``            ``true``  router pushes MessagePayload; required (legacy
                                          receive is not implemented)
``i2cp.messageReliability``     ``none``  only a final MessageStatus, and only for nonce != 0
``i2cp.leaseSetEncType``        auto      lease-set encryption types, Java's syntax
                                          (``"6,4"``): 4 plus at most one ML-KEM hybrid
                                          (5, 6, 7); unset: ``6,4`` when the router's
                                          API is 0.9.67+ (SetDate), else ``4``
``i2cp.leaseSetType``           ``3``     LeaseSet2 (the only one supported)
=============================== ========= ===============================================

Anything else (``inbound.length``, ``outbound.quantity``, ``i2cp.dontPublishLeaseSet``, …) is
passed through. Client-side options (:data:`CLIENT_SIDE_OPTIONS` and ``i2p.streaming.*``) are
stripped. ``i2cp.username``/``i2cp.password`` go into GetDate and, like the Java client does,
also stay in the SessionConfig (needed by routers up to 0.9.10).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "CLIENT_SIDE_OPTIONS",
    "DEFAULT_OPTIONS",
    "ENC_TYPE_OPTION",
    "KNOWN_OPTION_PREFIXES",
    "KNOWN_ROUTER_OPTIONS",
    "PQ_API_VERSION",
    "PQ_ENC_TYPES",
    "parse_enc_types",
    "router_options",
]

DEFAULT_OPTIONS: Mapping[str, str] = {
    "i2cp.fastReceive": "true",
    "i2cp.messageReliability": "none",
    "i2cp.leaseSetType": "3",
}

ENC_TYPE_OPTION = "i2cp.leaseSetEncType"
#: What the newest routers choose (i2pd 2.58+, Java 2.10+): ML-KEM-768 hybrid, then X25519.
PQ_ENC_TYPES = "6,4"
#: The first I2CP API with the hybrid types 5/6/7 in LeaseSets (i2pd 2.58, Java 2.10).
PQ_API_VERSION = (0, 9, 67)
_HYBRID = frozenset({5, 6, 7})

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

#: Session options routers read (the I2CP specification's table, i2pd's and Java's extras),
#: for spelling checks of user options: a key outside these and :data:`CLIENT_SIDE_OPTIONS`
#: is probably misspelt (it is still passed through).
KNOWN_ROUTER_OPTIONS = frozenset(
    {
        *(
            f"{way}.{name}"
            for way in ("inbound", "outbound")
            for name in (
                "allowZeroHop",
                "backupQuantity",
                "IPRestriction",
                "length",
                "lengthVariance",
                "nickname",
                "quantity",
                "randomKey",
            )
        ),
        "outbound.priority",
        "i2cp.dontPublishLeaseSet",
        "i2cp.fastReceive",
        "i2cp.messageReliability",
        "i2cp.username",
        "i2cp.password",
        "i2cp.leaseSetType",
        "i2cp.leaseSetEncType",
        "i2cp.leaseSetAuthType",
        "i2cp.leaseSetBlindedType",
        "i2cp.leaseSetSecret",
        "i2cp.leaseSetPrivKey",
        "i2cp.leaseSetOfflineExpiration",
        "i2cp.leaseSetTransientPublicKey",
        "i2cp.leaseSetOfflineSignature",
        "i2cp.destination.sigType",
        "i2cp.ratchet.inboundTags",
        "i2cp.ratchet.outboundTags",
        "crypto.lowTagThreshold",
        "crypto.tagsToSend",
        "crypto.ratchet.inboundTags",
        "crypto.ratchet.outboundTags",
        "explicitPeers",
        "shouldBundleReplyInfo",
        "latency.min",
        "latency.max",
    }
)
#: Known families of numbered keys (``i2cp.leaseSetClient.dh.0``, ...).
KNOWN_OPTION_PREFIXES = ("i2cp.leaseSetClient.", "i2cp.leaseSetOption.")

_FIXED = {
    "i2cp.fastReceive": "true",
    "i2cp.leaseSetType": "3",
}


def parse_enc_types(value: str) -> tuple[int, ...]:
    """The types of ``i2cp.leaseSetEncType`` (decimal codes, comma-separated, as Java), in the
    order they go into the LeaseSet: descending code (Java sorts so; "4,6" gives (6, 4)).

    Raises ``ValueError`` naming the option unless the value is type 4 plus at most one of
    the ML-KEM hybrids 5/6/7 (0, ElGamal, is not implemented; without 4 i2pd refuses
    non-PQ senders and loses its ECIES replies; two hybrids: Java refuses the session).
    """
    types: set[int] = set()
    for part in value.split(","):
        text = part.strip()
        if not text.isdigit() or int(text) not in _HYBRID | {4}:
            raise ValueError(
                f"I2CP option {ENC_TYPE_OPTION}={value!r}: {text!r} is not supported "
                "(4, optionally with one of 5, 6, 7; e.g. '6,4')"
            )
        types.add(int(text))
    if 4 not in types:
        raise ValueError(f"I2CP option {ENC_TYPE_OPTION}={value!r} must include 4 (X25519)")
    if len(types & _HYBRID) > 1:
        raise ValueError(
            f"I2CP option {ENC_TYPE_OPTION}={value!r}: at most one ML-KEM type (5, 6 or 7)"
        )
    return tuple(sorted(types, reverse=True))


def router_options(options: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the options to send in a SessionConfig: defaults, then ``options``, minus the
    client-side ones.

    Raises ``ValueError`` for non-string keys/values, or a value this client cannot honour
    (``i2cp.fastReceive`` other than true, lease-set type other than 3, encryption types
    :func:`parse_enc_types` refuses; the value is rewritten in its canonical order, "6,4").
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
        if key == ENC_TYPE_OPTION:
            value = ",".join(str(t) for t in parse_enc_types(value))
        result[key] = value
    return result
