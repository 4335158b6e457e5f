"""The data layer reads, re-encodes and signs with keys made by a real i2pd (SAM DEST GENERATE)."""

from __future__ import annotations

import pytest

from i2p_streaming.data import Destination, PrivateKeys, SigType, b64decode
from tests.support.i2pd import I2pdInstance
from tests.support.sam import dest_generate

pytestmark = pytest.mark.i2pd

ALL_SIG_TYPES = [0, 1, 2, 3, 7, 11]
SIGNING_SIG_TYPES = [0, 1, 2, 3, 7]
MESSAGE = b"i2p-streaming interop check: signed by keys that i2pd generated"


@pytest.mark.parametrize("sig_type", ALL_SIG_TYPES)
def test_destination_matches_i2pd_pub(i2pd: I2pdInstance, sig_type: int) -> None:
    pub, priv = dest_generate(i2pd.sam_address, sig_type)
    keys = PrivateKeys.from_base64(priv)
    assert keys.destination.to_bytes() == b64decode(pub)
    assert keys.destination.to_bytes() == Destination.from_base64(pub).to_bytes()
    assert keys.destination == Destination.from_base64(pub)
    assert keys.destination.sig_type == SigType(sig_type)


@pytest.mark.parametrize("sig_type", SIGNING_SIG_TYPES)
def test_signing_key_matches_destination(i2pd: I2pdInstance, sig_type: int) -> None:
    _, priv = dest_generate(i2pd.sam_address, sig_type)
    keys = PrivateKeys.from_base64(priv)
    signature = keys.sign(MESSAGE)
    assert len(signature) == keys.destination.signature_length
    assert keys.destination.verify(MESSAGE, signature)
    assert not keys.destination.verify(MESSAGE + b"!", signature)


@pytest.mark.parametrize("sig_type", ALL_SIG_TYPES)
def test_to_base64_gives_back_i2pd_priv(i2pd: I2pdInstance, sig_type: int) -> None:
    _, priv = dest_generate(i2pd.sam_address, sig_type)
    keys = PrivateKeys.from_base64(priv)
    assert keys.to_base64() == priv
    assert PrivateKeys.from_bytes(b64decode(priv)).to_bytes() == b64decode(priv)
