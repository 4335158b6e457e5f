"""The i2pd fixture and the SAM client against a real i2pd, plus their pure logic."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support import i2pd as i2pd_module
from tests.support.i2pd import I2pdBinary, I2pdInstance, I2pdManager, require_i2pd
from tests.support.sam import (
    SAMError,
    SAMSession,
    dest_generate,
    hello,
    i2p_b64decode,
    i2p_b64encode,
    naming_lookup,
    parse_reply,
    public_of,
    read_line,
)

SIG_TYPES = [0, 1, 2, 3, 7, 11]
FAKE_BINARY = I2pdBinary(("/nonexistent/i2pd",), None, "2.56.0")


# --- skip/fail decision (no i2pd needed) ----------------------------------------------------


def test_missing_i2pd_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i2pd_module, "find_i2pd", lambda flavour="newest": None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="run scripts/install-i2pd"):
        require_i2pd()


@pytest.mark.parametrize("value", ["false", "1", ""])
def test_missing_i2pd_skips_unless_ci_is_true(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setattr(i2pd_module, "find_i2pd", lambda flavour="newest": None)
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception):
        require_i2pd()


def test_missing_i2pd_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i2pd_module, "find_i2pd", lambda flavour="newest": None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="i2pd not installed"):
        require_i2pd()


@pytest.mark.parametrize("ci", [None, "true"])
def test_found_i2pd_is_returned(monkeypatch: pytest.MonkeyPatch, ci: str | None) -> None:
    monkeypatch.setattr(i2pd_module, "find_i2pd", lambda flavour="newest": FAKE_BINARY)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    assert require_i2pd() is FAKE_BINARY


def test_manager_fails_under_ci_without_i2pd(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(i2pd_module, "find_i2pd", lambda flavour="newest": None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        I2pdManager(tmp_path).get()


def test_find_i2pd_rejects_old_versions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "i2pd"
    fake.write_text("#!/bin/sh\necho 'i2pd version 2.45.1 (0.9.57)'\n")
    fake.chmod(0o755)
    monkeypatch.setattr(i2pd_module, "CACHE_WRAPPER", tmp_path / "missing")
    monkeypatch.setattr(i2pd_module, "NEWEST_WRAPPER", tmp_path / "missing")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("I2PD_BINARY", raising=False)
    assert i2pd_module.find_i2pd() is None
    fake.write_text("#!/bin/sh\necho 'i2pd version 2.56.0 (0.9.65)'\n")
    found = i2pd_module.find_i2pd()
    assert found is not None
    assert found.command == (str(fake),)
    assert found.version == "2.56.0"


# --- SAM line handling (no i2pd needed) -----------------------------------------------------


def test_parse_reply_words_pairs_and_quotes() -> None:
    words, pairs = parse_reply('STREAM STATUS RESULT=I2P_ERROR MESSAGE="no \\"route\\""\n')
    assert words == ["STREAM", "STATUS"]
    assert pairs == {"RESULT": "I2P_ERROR", "MESSAGE": 'no "route"'}
    _, pairs = parse_reply("DEST REPLY PUB=ab~-== PRIV=cd=")
    assert pairs == {"PUB": "ab~-==", "PRIV": "cd="}


def test_read_line_leaves_payload_unread() -> None:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"STREAM STATUS RESULT=OK\npayload")
        right.settimeout(5)
        assert read_line(right) == "STREAM STATUS RESULT=OK"
        assert right.recv(100) == b"payload"


def test_public_of_cuts_the_destination() -> None:
    cert = bytes([5, 0, 4, 0, 7, 0, 4])  # key certificate: Ed25519, X25519
    dest = bytes(range(256)) + bytes(128) + cert
    priv = dest + b"\x01" * 256 + b"\x02" * 32
    assert i2p_b64decode(public_of(i2p_b64encode(priv))) == dest


# --- against the real i2pd ------------------------------------------------------------------


@pytest.mark.i2pd
def test_fixture_starts_i2pd_and_ports_accept(i2pd: I2pdInstance) -> None:
    assert i2pd.alive()
    assert i2pd.host == "127.0.0.1"
    version = tuple(int(p) for p in i2pd.version.split(".")[:2])
    assert version >= (2, 51)
    for address in (i2pd.sam_address, i2pd.i2cp_address):
        with socket.create_connection(address, timeout=5):
            pass
    # --datadir was honoured: the router keeps its state in our temporary folder
    assert (i2pd.datadir / "i2pd.log").is_file()
    assert (i2pd.datadir / "router.keys").is_file()


@pytest.mark.i2pd
def test_sam_hello(i2pd: I2pdInstance) -> None:
    with socket.create_connection(i2pd.sam_address, timeout=10) as sock:
        sock.sendall(b"HELLO VERSION MIN=3.0 MAX=3.3\n")
        words, pairs = parse_reply(read_line(sock))
    assert words == ["HELLO", "REPLY"]
    assert pairs["RESULT"] == "OK"
    assert pairs["VERSION"].startswith("3.")
    with hello(i2pd.sam_address) as sock:
        assert sock.getpeername() == i2pd.sam_address


@pytest.mark.i2pd
@pytest.mark.parametrize("sig_type", SIG_TYPES)
def test_dest_generate(i2pd: I2pdInstance, sig_type: int) -> None:
    pub, priv = dest_generate(i2pd.sam_address, sig_type)
    dest = i2p_b64decode(pub)
    assert i2p_b64decode(priv).startswith(dest)
    assert public_of(priv) == pub
    cert_type, cert_len = dest[384], int.from_bytes(dest[385:387], "big")
    assert len(dest) == 387 + cert_len
    if sig_type == 0:
        assert cert_type in (0, 5)  # NULL certificate, or a key certificate naming DSA
    else:
        assert cert_type == 5  # KEY certificate: signing type, then crypto type
        assert int.from_bytes(dest[387:389], "big") == sig_type


@pytest.mark.i2pd
def test_sam_stream_echo_between_two_sessions(i2pd: I2pdInstance, sam_session: SAMSession) -> None:
    payload = bytes(range(256)) * 16
    with (
        SAMSession.create(i2pd.sam_address) as server,
        ThreadPoolExecutor(1) as pool,
    ):
        assert server.nickname != sam_session.nickname
        pending = pool.submit(server.accept, timeout=60)
        client = sam_session.connect(server.destination, timeout=60)
        with client:
            conn, peer = pending.result(timeout=60)
            with conn:
                assert peer == sam_session.destination
                client.sendall(payload)
                received = bytearray()
                while len(received) < len(payload):
                    chunk = conn.recv(65536)
                    assert chunk, "stream closed early"
                    received += chunk
                assert received == payload
                conn.sendall(b"echo:" + received[:32])
                reply = bytearray()
                while len(reply) < 37:
                    chunk = client.recv(64)
                    assert chunk, "stream closed early"
                    reply += chunk
                assert reply == b"echo:" + payload[:32]
                client.close()
                assert conn.recv(16) == b""  # the close travelled through i2pd
    assert i2pd.alive()


@pytest.mark.i2pd
def test_manager_restarts_a_dead_i2pd_and_recreates_the_sam_session(tmp_path: Path) -> None:
    manager = I2pdManager(tmp_path)
    try:
        first = manager.get()
        session = manager.sam_session()
        destination = session.destination
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        assert not first.alive()
        second = manager.get()
        assert second.alive()
        assert second.sam_port != first.sam_port or second.datadir != first.datadir
        assert manager.generation == 2
        assert len(manager.deaths) == 1
        again = manager.sam_session()
        assert again is session
        assert again.alive()
        assert again.destination == destination  # recreated with the same keys
        assert manager.get() is second
    finally:
        manager.stop()
    assert not second.alive()
    assert second.process.returncode is not None


@pytest.mark.i2pd
def test_naming_lookup(i2pd: I2pdInstance, sam_session: SAMSession) -> None:
    digest = hashlib.sha256(i2p_b64decode(sam_session.destination)).digest()
    b32 = base64.b32encode(digest).decode().rstrip("=").lower() + ".b32.i2p"
    assert naming_lookup(i2pd.sam_address, b32) == sam_session.destination
    with pytest.raises(SAMError, match=r"KEY_NOT_FOUND|INVALID_KEY"):
        naming_lookup(i2pd.sam_address, "no-such-host-for-tests.i2p")
