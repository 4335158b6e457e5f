"""I2P common structures: encodings, key types, Destination, PrivateKeys, LeaseSet2.

Pure and sans-I/O (except :meth:`PrivateKeys.save`/:meth:`PrivateKeys.load`). Every parser
takes peer bytes and returns a value or raises :class:`DataFormatError`.
"""

from i2p_streaming.data.base import (
    b32_address,
    b32_address_to_hash,
    b32encode_hash,
    b64decode,
    b64encode,
    is_b32_address,
)
from i2p_streaming.data.certificate import CERT_KEY, CERT_NULL, Certificate
from i2p_streaming.data.destination import Destination, KeysAndCert
from i2p_streaming.data.leaseset import (
    FLAG_OFFLINE_KEYS,
    FLAG_UNPUBLISHED,
    LS2_TYPE,
    EncryptionKey,
    LeaseSet2,
)
from i2p_streaming.data.offline import OfflineSignature
from i2p_streaming.data.privatekeys import PrivateKeys
from i2p_streaming.data.sigtypes import (
    EncType,
    SigType,
    generate_signing_key,
    generate_x25519,
    sign,
    signing_public_from_private,
    verify,
    x25519_public_from_private,
)
from i2p_streaming.data.structures import (
    Lease,
    Lease2,
    decode_date,
    decode_mapping,
    decode_string,
    encode_date,
    encode_mapping,
    encode_string,
)
from i2p_streaming.errors import DataFormatError

__all__ = [
    "CERT_KEY",
    "CERT_NULL",
    "FLAG_OFFLINE_KEYS",
    "FLAG_UNPUBLISHED",
    "LS2_TYPE",
    "Certificate",
    "DataFormatError",
    "Destination",
    "EncType",
    "EncryptionKey",
    "KeysAndCert",
    "Lease",
    "Lease2",
    "LeaseSet2",
    "OfflineSignature",
    "PrivateKeys",
    "SigType",
    "b32_address",
    "b32_address_to_hash",
    "b32encode_hash",
    "b64decode",
    "b64encode",
    "decode_date",
    "decode_mapping",
    "decode_string",
    "encode_date",
    "encode_mapping",
    "encode_string",
    "generate_signing_key",
    "generate_x25519",
    "is_b32_address",
    "sign",
    "signing_public_from_private",
    "verify",
    "x25519_public_from_private",
]
