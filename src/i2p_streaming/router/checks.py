"""Router-side validation of what a client submits: SessionConfig and every lease set type.

Pure functions: each returns ``None`` when the input is acceptable, else a human-readable
reason (sent to the client in a Disconnect or logged with a SessionStatus Invalid).
"""

from __future__ import annotations

from i2p_streaming.data import (
    EncType,
    OfflineSignature,
    SigType,
    b64decode,
    x25519_public_from_private,
)
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp.messages import (
    CreateLeaseSet2,
    CreateLeaseSet2Other,
    EncryptedLeaseSet,
    LeaseSet1,
    MetaLeaseSet,
    SessionConfig,
)

__all__ = [
    "DATE_WINDOW_MS",
    "ELGAMAL_PRIME",
    "LEASESET_WINDOW_S",
    "check_lease_set",
    "check_lease_set1",
    "check_other_lease_set",
    "check_session_config",
    "derive_public_key",
    "unsupported_enc_type",
]

#: SessionConfig dates may be this far from the router clock (Java ``OFFSET_VALIDITY``).
DATE_WINDOW_MS = 3 * 60 * 1000
#: LS2 ``published``/``expires``/lease ends may be this far from the router clock (i2pd).
LEASESET_WINDOW_S = 12 * 60
#: The 2048-bit MODP prime of RFC 3526 (generator 2) used by I2P ElGamal.
ELGAMAL_PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22"
    "514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C"
    "42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8"
    "A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096"
    "966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28F"
    "B5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFF"
    "FFFFFFFFFFFF",
    16,
)

_OFFLINE_EXPIRATION = "i2cp.leaseSetOfflineExpiration"
_OFFLINE_SIGNATURE = "i2cp.leaseSetOfflineSignature"
_TRANSIENT_KEY = "i2cp.leaseSetTransientPublicKey"
_KNOWN_ENC_TYPES = frozenset({"0", "4", "5", "6", "7"})
_HYBRID_TYPES = frozenset({5, 6, 7})
_LS_TYPES = frozenset({"1", "3", "5", "7"})
_BLINDABLE = frozenset({SigType.EdDSA_SHA512_Ed25519, SigType.RedDSA_SHA512_Ed25519})


def _check_offline(cfg: SessionConfig) -> str | None:
    options = cfg.options
    if _TRANSIENT_KEY not in options:
        return None
    try:
        code, _, b64 = options[_TRANSIENT_KEY].partition(":")
        expires = int(options[_OFFLINE_EXPIRATION])
        block = OfflineSignature(
            expires, SigType(int(code)), b64decode(b64), b64decode(options[_OFFLINE_SIGNATURE])
        )
    except (KeyError, ValueError):  # DataFormatError is a ValueError
        return "incomplete or malformed offline-signature options in the SessionConfig"
    if not block.verify(cfg.destination):
        return "the offline signature in the SessionConfig does not verify"
    if block.expires * 1000 <= cfg.date_ms:
        return "the offline signature in the SessionConfig has expired"
    return None


def check_session_config(cfg: SessionConfig, now_ms: int) -> str | None:
    """Check a CreateSession/ReconfigureSession config against the router clock ``now_ms``.

    Checks the signature (transient key when offline, plus the offline block), the date window
    (±3 min), crypto type 0 in the key certificate, ``i2cp.leaseSetEncType`` values (0, 4 and
    at most one of the ML-KEM hybrids 5/6/7)
    and ``i2cp.leaseSetType`` (1, 3, 5 or 7; 5 only for Ed25519/RedDSA Destinations, as Java
    checks). Returns ``None`` or the reason for refusing it.
    """
    offline = _check_offline(cfg)
    if offline is not None:
        return offline
    if not cfg.verify():
        return "invalid SessionConfig signature"
    skew = cfg.date_ms - now_ms
    if abs(skew) > DATE_WINDOW_MS:
        return (
            f"SessionConfig date is {skew / 1000:+.0f} s off the router clock "
            f"(limit ±{DATE_WINDOW_MS // 1000} s); use the time from SetDate"
        )
    try:
        enc_type = cfg.destination.enc_type
    except ValueError:
        enc_type = None
    if enc_type is not EncType.ELGAMAL:
        return "Non-ElGamal encryption type in key certificate unsupported"
    enc_types = cfg.options.get("i2cp.leaseSetEncType")
    if enc_types is not None:
        bad = [t for t in enc_types.split(",") if t.strip() not in _KNOWN_ENC_TYPES]
        if bad:
            return f"unsupported i2cp.leaseSetEncType {enc_types!r} (known: 0, 4, 5, 6, 7)"
        if len({t.strip() for t in enc_types.split(",")} & {"5", "6", "7"}) > 1:
            return f"i2cp.leaseSetEncType {enc_types!r}: more than one ML-KEM type"
    ls_type = cfg.options.get("i2cp.leaseSetType")
    if ls_type is not None and ls_type.strip() not in _LS_TYPES:
        return f"unsupported i2cp.leaseSetType {ls_type!r} (known: 1, 3, 5, 7)"
    if (
        ls_type is not None
        and ls_type.strip() == "5"
        and cfg.destination.sig_type not in _BLINDABLE
    ):
        return "Invalid sig type for encrypted LS"
    return None


def unsupported_enc_type(value: str | None, supported: frozenset[int]) -> str | None:
    """Java's Disconnect reason for an ``i2cp.leaseSetEncType`` ``value`` naming a type outside
    ``supported`` (a router without ML-KEM: "Unsupported crypto type: 6"), else None."""
    for text in (value or "").split(","):
        if text.strip().isdigit() and int(text) not in supported:
            return f"Unsupported crypto type: {text.strip()}"
    return None


def derive_public_key(enc_type: int, private_key: bytes) -> bytes | None:
    """The public key of ``private_key`` for encryption type 0 (ElGamal), 4 (X25519) or an
    ML-KEM hybrid 5/6/7 (whose LeaseSet key is the X25519 one), or ``None`` when the type is
    unsupported or the key has the wrong length."""
    if enc_type == EncType.ECIES_X25519 or enc_type in _HYBRID_TYPES:
        try:
            return x25519_public_from_private(private_key)
        except DataFormatError:
            return None
    if enc_type == EncType.ELGAMAL and len(private_key) == 256:
        x = int.from_bytes(private_key, "big")
        return pow(2, x, ELGAMAL_PRIME).to_bytes(256, "big")
    return None


def check_lease_set(msg: CreateLeaseSet2, session_dest_hash: bytes, now_s: int) -> str | None:
    """Check a CreateLeaseSet2 for the session whose Destination hash is ``session_dest_hash``.

    The LS2 must be for that Destination, verify (offline block included), be timely
    (``published`` within ±12 min of ``now_s``, nothing expiring more than 12 min ahead, offline
    block not expired), carry distinct key types with at most one ML-KEM hybrid and not one
    beside ElGamal (Java's LeaseSetKeys rule), and one private key per public key, same order
    and types, each deriving its public key. Returns ``None`` or the reason.
    """
    ls = msg.lease_set
    if ls.destination.hash != session_dest_hash:
        return "the lease set is for another destination than the session's"
    if not ls.verify():
        return "bad lease set signature"
    if ls.offline is not None and ls.offline.is_expired(now_s):
        return "the lease set's offline signature has expired"
    if abs(ls.published - now_s) > LEASESET_WINDOW_S:
        return f"lease set published {ls.published - now_s:+d} s from the router clock"
    latest = max([ls.expires, *(lease.end for lease in ls.leases)])
    if latest > now_s + LEASESET_WINDOW_S:
        return f"lease set expires {latest - now_s} s ahead (limit {LEASESET_WINDOW_S} s)"
    types = [key.enc_type for key in ls.keys]
    if len(set(types)) != len(types):
        return f"lease set key types {types} repeat a type"
    hybrids = [t for t in types if t in _HYBRID_TYPES]
    if len(hybrids) > 1 or (hybrids and EncType.ELGAMAL in types):
        return f"lease set key types {types}: at most one ML-KEM type, never beside ElGamal"
    if len(msg.private_keys) != len(ls.keys):
        return f"{len(msg.private_keys)} private keys for {len(ls.keys)} lease set keys"
    for index, ((enc_type, private), public) in enumerate(
        zip(msg.private_keys, ls.keys, strict=True)
    ):
        if enc_type != public.enc_type:
            return f"private key {index} has type {enc_type}, the lease set key {public.enc_type}"
        derived = derive_public_key(enc_type, private)
        if derived is None:
            return f"private key {index}: unsupported encryption type {enc_type} or bad length"
        if derived != public.public_key:
            return f"private key {index} does not derive the lease set's public key"
    return None


def _check_window(published: int | None, latest: int, now_s: int) -> str | None:
    if published is not None and abs(published - now_s) > LEASESET_WINDOW_S:
        return f"lease set published {published - now_s:+d} s from the router clock"
    if latest > now_s + LEASESET_WINDOW_S:
        return f"lease set expires {latest - now_s} s ahead (limit {LEASESET_WINDOW_S} s)"
    return None


def check_lease_set1(
    ls: LeaseSet1, elgamal_private: bytes, session_dest_hash: bytes, now_s: int
) -> str | None:
    """Check a LeaseSet v1 (from CreateLeaseSet or CreateLeaseSet2 type 1): for the session's
    Destination, signed by it, no lease ending more than 12 min ahead, and ``elgamal_private``
    deriving its ElGamal key (Java's "Private/public crypto key mismatch in LS")."""
    if ls.destination.hash != session_dest_hash:
        return "Different destination in LS"
    if not ls.verify():
        return "bad lease set signature"
    latest = max([now_s, *(lease.end_ms // 1000 for lease in ls.leases)])
    reason = _check_window(None, latest, now_s)
    if reason is not None:
        return reason
    if derive_public_key(EncType.ELGAMAL, elgamal_private) != ls.encryption_key:
        return "Private/public crypto key mismatch in LS"
    return None


def check_other_lease_set(
    msg: CreateLeaseSet2Other, session_dest_hash: bytes, now_s: int
) -> str | None:
    """Check a CreateLeaseSet2 of type 1, 5 (encrypted) or 7 (meta).

    Encrypted: the outer signature (by the blinded key) verifies, the times are in the window,
    and each private key has a known type and length (its public key is inside the encrypted
    part, which the router cannot read without the secret). Meta: for the session's
    Destination, signed, timely, no private keys."""
    ls = msg.lease_set
    if isinstance(ls, LeaseSet1):
        if len(msg.private_keys) != 1:
            return "Invalid CreateLeaseSetMessage - null private keys"
        return check_lease_set1(ls, msg.private_keys[0][1], session_dest_hash, now_s)
    if isinstance(ls, EncryptedLeaseSet):
        if ls.blinded_sig_type is not SigType.RedDSA_SHA512_Ed25519:
            return f"encrypted lease set blinded with sig type {int(ls.blinded_sig_type)}, not 11"
        if not ls.verify():
            return "Error decrypting leaseset from client"
        reason = _check_window(ls.published, ls.expires, now_s)
        if reason is not None:
            return reason
        if not msg.private_keys:
            return "Invalid CreateLeaseSetMessage - null private keys"
        for index, (enc_type, private) in enumerate(msg.private_keys):
            if derive_public_key(enc_type, private) is None:
                return f"Bad private key in LS: {index}"
        return None
    assert isinstance(ls, MetaLeaseSet)
    if ls.destination.hash != session_dest_hash:
        return "Different destination in LS"
    if not ls.verify():
        return "bad lease set signature"
    if ls.offline is not None and ls.offline.is_expired(now_s):
        return "the lease set's offline signature has expired"
    return _check_window(ls.published, max([ls.expires, *(e.end for e in ls.entries)]), now_s)
