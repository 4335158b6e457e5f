"""SessionConfig: what CreateSession and ReconfigureSession carry (reference C.6)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from i2p_streaming.data import (
    Destination,
    OfflineSignature,
    PrivateKeys,
    SigType,
    b64decode,
    b64encode,
    encode_date,
    encode_mapping,
    verify,
)
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp.reader import MessageReader as _Reader

__all__ = ["TRANSIENT_KEY_OPTION", "SessionConfig", "offline_session_options"]

TRANSIENT_KEY_OPTION = "i2cp.leaseSetTransientPublicKey"


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """``Destination | Mapping options (sorted) | Date created | Signature``.

    The signature covers ``Destination || Mapping || Date`` and is made with the Destination's
    signing key, or with the transient key when the options carry offline-signature fields.
    """

    destination: Destination
    options: dict[str, str]
    date_ms: int
    signature: bytes

    @classmethod
    def create(
        cls,
        keys: PrivateKeys,
        options: Mapping[str, str],
        date_ms: int,
        *,
        add_offline_options: bool = True,
    ) -> SessionConfig:
        """Build and sign a config. Raises DataFormatError for options that cannot be encoded.

        With offline keys, the three ``i2cp.leaseSetOffline*``/transient-key options are added
        and the config is signed by the transient key (reference C.6); ``add_offline_options=False``
        leaves the options exactly as given (tests of router-side checks use it).
        """
        opts = dict(options)
        if keys.offline is not None and add_offline_options:
            opts.update(offline_session_options(keys.offline))
        body = keys.destination.to_bytes() + encode_mapping(opts) + encode_date(date_ms)
        return cls(keys.destination, opts, date_ms, keys.sign(body))

    def signed_bytes(self) -> bytes:
        """The bytes the signature covers (options re-serialised sorted, as Java verifies)."""
        return (
            self.destination.to_bytes() + encode_mapping(self.options) + encode_date(self.date_ms)
        )

    def to_bytes(self) -> bytes:
        """Serialise the whole config, signature included."""
        return self.signed_bytes() + self.signature

    def _transient(self) -> tuple[SigType, bytes] | None:
        value = self.options.get(TRANSIENT_KEY_OPTION)
        if value is None:
            return None
        code, sep, b64 = value.partition(":")
        try:
            sig_type = SigType(int(code))
        except ValueError:
            raise DataFormatError(f"SessionConfig: bad {TRANSIENT_KEY_OPTION} type") from None
        if not sep:
            raise DataFormatError(f"SessionConfig: {TRANSIENT_KEY_OPTION} lacks ':'")
        return sig_type, b64decode(b64)

    def verify(self) -> bool:
        """Check the signature (with the transient key when offline); never raises."""
        try:
            transient = self._transient()
            data = self.signed_bytes()
        except DataFormatError:
            return False
        if transient is None:
            return self.destination.verify(data, self.signature)
        return verify(transient[0], transient[1], data, self.signature)

    @classmethod
    def _read(cls, r: _Reader) -> SessionConfig:
        dest = r.destination()
        options = r.mapping()
        date_ms = r.date()
        cfg = cls(dest, options, date_ms, b"")
        transient = cfg._transient()
        length = dest.signature_length if transient is None else transient[0].signature_length
        return cls(dest, options, date_ms, r.take(length, "signature"))


def offline_session_options(offline: OfflineSignature) -> dict[str, str]:
    """The SessionConfig options that carry an offline signature block (reference C.6)."""
    return {
        "i2cp.leaseSetOfflineExpiration": str(offline.expires),
        TRANSIENT_KEY_OPTION: (
            f"{int(offline.transient_sig_type)}:{b64encode(offline.transient_public_key)}"
        ),
        "i2cp.leaseSetOfflineSignature": b64encode(offline.signature),
    }
