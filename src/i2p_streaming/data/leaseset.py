"""LeaseSet2 (type 3, spec D.8): build, sign, parse, verify.

Wire form: ``Destination | published(4, s) | expires(2, s after published) | flags(2) |
[OfflineSignature] | options Mapping | numKeys(1) | (encType(2) keyLen(2) key)* |
numLeases(1) | Lease2* | signature``. The signature covers ``0x03`` followed by everything
before it and is made by the Destination key, or the transient key when flag bit 0 is set.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from i2p_streaming.data.base import Buffer, ByteReader
from i2p_streaming.data.destination import Destination
from i2p_streaming.data.offline import OfflineSignature
from i2p_streaming.data.sigtypes import EncType, SigType, verify
from i2p_streaming.data.structures import (
    MAX_LEASES,
    Lease,
    Lease2,
    decode_mapping,
    encode_mapping,
    mapping_sort_key,
)
from i2p_streaming.errors import DataFormatError

if TYPE_CHECKING:
    from i2p_streaming.data.privatekeys import PrivateKeys

__all__ = [
    "FLAG_OFFLINE_KEYS",
    "FLAG_UNPUBLISHED",
    "LS2_TYPE",
    "MAX_KEYS",
    "EncryptionKey",
    "LeaseSet2",
]

LS2_TYPE = 3
FLAG_OFFLINE_KEYS = 1
FLAG_UNPUBLISHED = 2
MAX_KEYS = 8
_KNOWN_KEY_LENGTHS = {int(e): e.public_key_length for e in EncType}


@dataclass(frozen=True, slots=True)
class EncryptionKey:
    """One LS2 encryption key. Known types (0: 256 bytes; 4 and the ML-KEM hybrids 5/6/7: 32
    bytes of X25519) must have their exact key length; other types are kept opaque.
    Violations raise DataFormatError."""

    enc_type: int
    public_key: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.enc_type, int) or not 0 <= self.enc_type <= 0xFFFF:
            raise DataFormatError(f"EncryptionKey: type {self.enc_type!r} out of range")
        want = _KNOWN_KEY_LENGTHS.get(int(self.enc_type))
        if want is not None and len(self.public_key) != want:
            raise DataFormatError(
                f"EncryptionKey: type {self.enc_type} needs {want} bytes, "
                f"got {len(self.public_key)}"
            )
        if len(self.public_key) > 0xFFFF:
            raise DataFormatError("EncryptionKey: key longer than 65535 bytes")

    def to_bytes(self) -> bytes:
        """``encType(2) | keyLen(2) | key``."""
        return struct.pack(">HH", self.enc_type, len(self.public_key)) + self.public_key


@dataclass(frozen=True)
class LeaseSet2:
    """A signed LeaseSet2. ``published``/``expires`` are absolute seconds since the epoch.

    Constructing one validates every field (ranges, 1..8 keys, at most 16 leases, offline
    block present exactly when flag bit 0 is set, signature length); violations raise
    DataFormatError.
    """

    destination: Destination
    published: int
    expires: int
    flags: int
    offline: OfflineSignature | None
    properties: dict[str, str]
    keys: tuple[EncryptionKey, ...]
    leases: tuple[Lease2, ...]
    signature: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.published, int) or not 0 <= self.published <= 0xFFFFFFFF:
            raise DataFormatError(f"LeaseSet2: published {self.published!r} out of range")
        if not isinstance(self.expires, int) or not 0 <= self.expires - self.published <= 0xFFFF:
            raise DataFormatError(
                f"LeaseSet2: expires {self.expires!r} must be 0..65535 s after published"
            )
        if not isinstance(self.flags, int) or not 0 <= self.flags <= 0xFFFF:
            raise DataFormatError(f"LeaseSet2: flags {self.flags!r} out of range")
        if bool(self.flags & FLAG_OFFLINE_KEYS) != (self.offline is not None):
            raise DataFormatError("LeaseSet2: offline flag and offline block disagree")
        sig_len = self.destination.sig_type.signature_length
        if self.offline is not None and len(self.offline.signature) != sig_len:
            raise DataFormatError("LeaseSet2: offline signature has the wrong length")
        if not 1 <= len(self.keys) <= MAX_KEYS:
            raise DataFormatError(f"LeaseSet2: {len(self.keys)} keys, need 1..{MAX_KEYS}")
        if len(self.leases) > MAX_LEASES:
            raise DataFormatError(f"LeaseSet2: {len(self.leases)} leases, at most {MAX_LEASES}")
        if len(self.signature) != self.signing_sig_type.signature_length:
            raise DataFormatError(
                f"LeaseSet2: signature must be {self.signing_sig_type.signature_length} bytes"
            )
        encode_mapping(self.properties, sort=False)  # validates

    @property
    def signing_sig_type(self) -> SigType:
        """Type of the key that signs this LS2 (the transient type when offline)."""
        if self.offline is not None:
            return self.offline.transient_sig_type
        return self.destination.sig_type

    @property
    def unpublished(self) -> bool:
        """True if flag bit 1 (client-only, do not publish) is set."""
        return bool(self.flags & FLAG_UNPUBLISHED)

    def _body(self) -> bytes:
        parts = [
            self.destination.to_bytes(),
            struct.pack(">IHH", self.published, self.expires - self.published, self.flags),
        ]
        if self.offline is not None:
            parts.append(self.offline.to_bytes())
        parts.append(encode_mapping(self.properties, sort=False))
        parts.append(bytes((len(self.keys),)))
        parts.extend(k.to_bytes() for k in self.keys)
        parts.append(bytes((len(self.leases),)))
        parts.extend(lease.to_bytes() for lease in self.leases)
        return b"".join(parts)

    def signed_bytes(self) -> bytes:
        """``0x03`` + every serialised byte before the signature."""
        return bytes((LS2_TYPE,)) + self._body()

    def to_bytes(self) -> bytes:
        """Serialise (without the type byte), signature included."""
        return self._body() + self.signature

    def verify(self) -> bool:
        """True if the offline block (if any) is signed by the Destination and the LS2
        signature verifies with the signing key. Never raises; ignores time."""
        try:
            signed = self.signed_bytes()
        except DataFormatError:  # pragma: no cover - validated at construction
            return False
        if self.offline is not None:
            if not self.offline.verify(self.destination):
                return False
            return verify(
                self.offline.transient_sig_type,
                self.offline.transient_public_key,
                signed,
                self.signature,
            )
        return self.destination.verify(signed, self.signature)

    @classmethod
    def build(
        cls,
        keys: PrivateKeys,
        *,
        encryption_keys: Iterable[EncryptionKey | tuple[int, bytes]],
        leases: Iterable[Lease2 | Lease],
        published: int,
        expires: int | None = None,
        properties: MappingABC[str, str] | None = None,
        unpublished: bool = False,
    ) -> LeaseSet2:
        """Build and sign an LS2 with ``keys`` (transient key and offline flag if offline).

        ``encryption_keys`` are in preference order; 44-byte Leases are converted to Lease2.
        ``expires`` defaults to the latest lease end. ``properties`` are sorted by key.
        Raises DataFormatError for invalid fields (no leases and no ``expires``, ``expires``
        before ``published`` or more than 65535 s after it, too many keys or leases).
        """
        enc = tuple(
            k if isinstance(k, EncryptionKey) else EncryptionKey(*k) for k in encryption_keys
        )
        ls = tuple(x if isinstance(x, Lease2) else Lease2.from_lease(x) for x in leases)
        if expires is None:
            if not ls:
                raise DataFormatError("LeaseSet2.build: no leases and no expires given")
            expires = max(x.end for x in ls)
        props = dict(sorted((properties or {}).items(), key=lambda kv: mapping_sort_key(kv[0])))
        flags = (FLAG_OFFLINE_KEYS if keys.offline is not None else 0) | (
            FLAG_UNPUBLISHED if unpublished else 0
        )
        unsigned = cls(
            keys.destination,
            published,
            expires,
            flags,
            keys.offline,
            props,
            enc,
            ls,
            bytes(keys.signature_length),
        )
        return dataclasses.replace(unsigned, signature=keys.sign(unsigned.signed_bytes()))

    @classmethod
    def from_bytes(cls, buf: Buffer, offset: int = 0) -> tuple[LeaseSet2, int]:
        """Parse an LS2 (starting at the Destination, no type byte); return ``(ls2, used)``.

        Does not verify the signature (call :meth:`verify`). Raises DataFormatError with the
        offset for truncated or invalid input.
        """
        dest, used = Destination.from_bytes(buf, offset)
        r = ByteReader(buf, offset + used, "LeaseSet2")
        published = r.u32("published")
        expires = published + r.u16("expires")
        flags = r.u16("flags")
        offline = None
        if flags & FLAG_OFFLINE_KEYS:
            try:
                offline, n = OfflineSignature.from_bytes(r.buf, r.pos, dest.sig_type)
            except DataFormatError as exc:
                raise DataFormatError(f"LeaseSet2: {exc}") from None
            r.take(n, "offline signature")
        try:
            props, n = decode_mapping(r.buf, r.pos)
        except DataFormatError as exc:
            raise DataFormatError(f"LeaseSet2: {exc}") from None
        r.take(n, "options")
        count_at = r.pos
        nkeys = r.u8("key count")
        if not 1 <= nkeys <= MAX_KEYS:
            raise r.fail(f"{nkeys} keys, need 1..{MAX_KEYS}", count_at)
        keys = []
        for _ in range(nkeys):
            key_at = r.pos
            enc_type = r.u16("key type")
            pub = r.take(r.u16("key length"), "key")
            try:
                keys.append(EncryptionKey(enc_type, pub))
            except DataFormatError as exc:
                raise r.fail(str(exc), key_at) from None
        count_at = r.pos
        nleases = r.u8("lease count")
        if nleases > MAX_LEASES:
            raise r.fail(f"{nleases} leases, at most {MAX_LEASES}", count_at)
        leases = []
        for _ in range(nleases):
            leases.append(Lease2.from_bytes(r.take(40, "lease"))[0])
        sig_type = offline.transient_sig_type if offline is not None else dest.sig_type
        signature = r.take(sig_type.signature_length, "signature")
        ls2 = cls(
            dest, published, expires, flags, offline, props, tuple(keys), tuple(leases), signature
        )
        return ls2, r.pos - offset
