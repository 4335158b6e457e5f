"""Encrypted (blinded) LeaseSets on the embedded router: "b33" names, BlindingInfo, lookups.

A Destination that publishes an EncryptedLeaseSet (type 5) is reached by its 56+ character
``.b32.i2p`` name, which encodes its unblinded signing key and whether a secret and/or
per-client authentication are needed. The embedded router stores the encrypted lease set as
an opaque blob (it never decrypts it); a lookup by such a name succeeds when the client has
given what the publisher requires (through :class:`~i2p_streaming.i2cp.messages.BlindingInfo`),
compared against the publisher's own session options, and otherwise returns the HostReply code
Java's router returns. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from i2p_streaming.data import SigType, b64decode, x25519_public_from_private
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp.messages import BlindingInfo
from i2p_streaming.i2cp.messages.blinding import AUTH_DH, AUTH_PSK

__all__ = [
    "MAX_BLINDING_ENTRIES",
    "REPLY_AUTH_REQUIRED",
    "REPLY_DECRYPTION_FAILURE",
    "REPLY_SECRET_AND_AUTH_REQUIRED",
    "REPLY_SECRET_REQUIRED",
    "BlindedName",
    "BlindingTable",
    "authorize",
    "blinded_name",
    "parse_blinded_name",
]

#: BlindingInfo entries the router keeps (oldest forgotten first).
MAX_BLINDING_ENTRIES = 1024
#: HostReply result codes for blinded names (I2CP spec).
REPLY_SECRET_REQUIRED = 2
REPLY_AUTH_REQUIRED = 3
REPLY_SECRET_AND_AUTH_REQUIRED = 4
REPLY_DECRYPTION_FAILURE = 5
_SUFFIX = ".b32.i2p"
_FLAG_TWO_BYTE, _FLAG_SECRET, _FLAG_AUTH = 0x01, 0x02, 0x04


@dataclass(frozen=True, slots=True)
class BlindedName:
    """What a "b33" name says: the unblinded key, the blinded sig type and the requirements."""

    sig_type: SigType
    signing_key: bytes
    blinded_sig_type: int
    secret_required: bool
    auth_required: bool


def blinded_name(
    sig_type: SigType,
    signing_key: bytes,
    *,
    blinded_sig_type: int = int(SigType.RedDSA_SHA512_Ed25519),
    secret_required: bool = False,
    auth_required: bool = False,
) -> str:
    """The "b33" ``.b32.i2p`` name of a Destination with this signing key (the inverse of
    :func:`parse_blinded_name`)."""
    flags = (_FLAG_SECRET if secret_required else 0) | (_FLAG_AUTH if auth_required else 0)
    check = zlib.crc32(signing_key)
    head = bytes(
        (
            flags ^ (check & 0xFF),
            int(sig_type) ^ ((check >> 8) & 0xFF),
            blinded_sig_type ^ ((check >> 16) & 0xFF),
        )
    )
    text = base64.b32encode(head + signing_key).decode().lower().rstrip("=")
    return text + _SUFFIX


def parse_blinded_name(name: str) -> BlindedName | None:
    """Decode a "b33" ``.b32.i2p`` name (56 or more characters before the suffix); ``None``
    for anything else (ordinary 52-character b32 names included) or a corrupt one."""
    lower = name.lower()
    if not lower.endswith(_SUFFIX):
        return None
    text = lower[: -len(_SUFFIX)]
    if len(text) < 56:
        return None
    try:
        raw = bytearray(base64.b32decode(text.upper() + "=" * (-len(text) % 8)))
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 4:
        return None
    check = zlib.crc32(bytes(raw[3:]))
    raw[0] ^= check & 0xFF
    raw[1] ^= (check >> 8) & 0xFF
    raw[2] ^= (check >> 16) & 0xFF
    flags = raw[0]
    if flags & 0xF8 or flags & _FLAG_TWO_BYTE:
        return None
    try:
        sig_type = SigType(raw[1])
    except ValueError:
        return None
    key = bytes(raw[3:])
    if len(key) != sig_type.public_key_length:
        return None
    return BlindedName(sig_type, key, raw[2], bool(flags & _FLAG_SECRET), bool(flags & _FLAG_AUTH))


class BlindingTable:
    """The BlindingInfo the router's clients gave, by unblinded signing key (bounded by
    :data:`MAX_BLINDING_ENTRIES`; a new entry for a known key replaces it)."""

    def __init__(self, limit: int = MAX_BLINDING_ENTRIES) -> None:
        self._limit = limit
        self._entries: OrderedDict[bytes, BlindingInfo] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, info: BlindingInfo) -> bool:
        """Keep ``info`` if it names a signing key (endpoint types 2 and 3); return whether
        it was kept. Like Java's router, hash and host-name endpoints are not supported."""
        key = info.signing_key
        if key is None:
            return False
        self._entries.pop(key[1], None)
        self._entries[key[1]] = info
        while len(self._entries) > self._limit:
            self._entries.popitem(last=False)
        return True

    def get(self, signing_key: bytes) -> BlindingInfo | None:
        """The entry for ``signing_key``, if any."""
        return self._entries.get(signing_key)


def _option_keys(options: Mapping[str, str], prefix: str) -> list[bytes]:
    keys = []
    for name, value in options.items():
        if name.startswith(prefix):
            try:
                keys.append(b64decode(value.rpartition(":")[2]))
            except DataFormatError:
                continue
    return keys


def authorize(
    name: BlindedName, publisher_options: Mapping[str, str], info: BlindingInfo | None
) -> int:
    """The HostReply code for a lookup of ``name`` (0 when the client may have it).

    The publisher's ``i2cp.leaseSetSecret`` (base64) and ``i2cp.leaseSetAuthType`` (1 DH with
    ``i2cp.leaseSetClient.dh.N`` = ``name:b64 public key``, 2 PSK with
    ``i2cp.leaseSetClient.psk.N`` = ``name:b64 key``) decide what is needed, as do the flags in
    the name itself; ``info`` is what the client supplied."""
    secret_option = publisher_options.get("i2cp.leaseSetSecret")
    auth_type = publisher_options.get("i2cp.leaseSetAuthType", "0").strip()
    needs_secret = name.secret_required or secret_option is not None
    needs_auth = name.auth_required or auth_type in ("1", "2")
    has_secret = info is not None and info.secret is not None
    has_auth = info is not None and info.auth_key is not None
    missing_secret = needs_secret and not has_secret
    missing_auth = needs_auth and not has_auth
    if missing_secret and missing_auth:
        return REPLY_SECRET_AND_AUTH_REQUIRED
    if missing_secret:
        return REPLY_SECRET_REQUIRED
    if missing_auth:
        return REPLY_AUTH_REQUIRED
    if info is None:
        return 0
    if needs_secret and secret_option is not None:
        try:
            expected = b64decode(secret_option).decode()
        except (DataFormatError, UnicodeDecodeError):
            expected = secret_option
        if info.secret != expected:
            return REPLY_DECRYPTION_FAILURE
    if needs_auth and info.auth_key is not None:
        if auth_type == "1" and info.auth_type == AUTH_DH:
            try:
                public = x25519_public_from_private(info.auth_key)
            except DataFormatError:
                return REPLY_DECRYPTION_FAILURE
            if public not in _option_keys(publisher_options, "i2cp.leaseSetClient.dh."):
                return REPLY_DECRYPTION_FAILURE
        elif auth_type == "2" and info.auth_type == AUTH_PSK:
            if info.auth_key not in _option_keys(publisher_options, "i2cp.leaseSetClient.psk."):
                return REPLY_DECRYPTION_FAILURE
        elif auth_type in ("1", "2"):
            return REPLY_DECRYPTION_FAILURE
    return 0
