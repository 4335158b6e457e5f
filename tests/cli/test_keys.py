"""keygen / keyinfo: the file format, mode 0600, atomic and no silent overwrite."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from i2p_streaming.cli.__main__ import main
from i2p_streaming.data import PrivateKeys, SigType


def _keyinfo(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    assert main(["keyinfo", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    return dict(line.split(": ", 1) for line in lines)


@pytest.mark.parametrize(
    ("name", "sig_type"),
    [
        ("ed25519", SigType.EdDSA_SHA512_Ed25519),
        ("ecdsa-p256", SigType.ECDSA_SHA256_P256),
        ("ecdsa-p521", SigType.ECDSA_SHA512_P521),
        ("dsa-sha1", SigType.DSA_SHA1),
    ],
)
def test_keygen_then_keyinfo_matches_the_data_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, sig_type: SigType
) -> None:
    path = tmp_path / "keys.dat"
    assert main(["keygen", str(path), "--sig-type", name]) == 0
    keys = PrivateKeys.load(path)
    assert keys.destination.b32 in capsys.readouterr().out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    info = _keyinfo(path, capsys)
    assert info["b32"] == keys.destination.b32
    assert info["base64"] == keys.destination.to_base64()
    assert info["signature type"] == f"{sig_type.name} ({int(sig_type)})"
    assert info["encryption type"] == "ELGAMAL (0)"
    assert info["offline signature"] == "none"
    assert sorted(os.listdir(tmp_path)) == ["keys.dat"]  # no temporary file left


def test_keygen_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "keys.dat"
    assert main(["keygen", str(path), "--format", "java"]) == 0
    before = path.read_bytes()
    capsys.readouterr()
    assert main(["keygen", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == f"keygen: {path} exists (use --force to replace it)\n"
    assert path.read_bytes() == before
    assert main(["keygen", str(path), "--force"]) == 0
    assert path.read_bytes() != before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["keys.dat"]


def test_keygen_into_a_missing_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keygen", str(tmp_path / "no" / "keys.dat")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("keygen: cannot write ") and err.count("\n") == 1


def test_keyinfo_shows_offline_signature_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = PrivateKeys.generate().with_offline_signature(
        SigType.EdDSA_SHA512_Ed25519, int(time.time()) + 86400
    )
    path = tmp_path / "offline.dat"
    keys.save(path)
    info = _keyinfo(path, capsys)
    assert info["b32"] == keys.destination.b32
    assert info["offline signature"].startswith("valid, transient EdDSA_SHA512_Ed25519 (7)")
    expired = PrivateKeys.generate().with_offline_signature(SigType.EdDSA_SHA512_Ed25519, 1000)
    expired.save(path)
    assert _keyinfo(path, capsys)["offline signature"].startswith("expired, ")


def test_keyinfo_rejects_a_bad_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "junk.dat"
    path.write_bytes(b"not a key file")
    assert main(["keyinfo", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"keyinfo: {path} is not an I2P private-key file")
    assert err.count("\n") == 1
    assert main(["keyinfo", str(tmp_path / "missing.dat")]) == 2
    assert "cannot read key file" in capsys.readouterr().err


def test_keygen_without_hard_links_still_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: str, dst: str) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "keys.dat"
    assert main(["keygen", str(path)]) == 0
    before = path.read_bytes()
    assert PrivateKeys.load(path).destination.b32 in capsys.readouterr().out
    assert main(["keygen", str(path)]) == 1
    assert "exists (use --force" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["keys.dat"]
