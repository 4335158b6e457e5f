"""The CI-short fuzz run and the fuzz regressions (no atheris needed; see docs/fuzzing.md).

Each target of :mod:`fuzz.targets` runs over its seed corpus plus a fixed, seeded set of
mutants; every input ever kept in ``fuzz/regressions/<target>/`` runs through its target.
``make fuzz`` is the long, coverage-guided run.
"""

from __future__ import annotations

import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fuzz import run
from fuzz.corpus import REGRESSIONS_DIR, regression_files, seed_files, xfail_reason
from fuzz.mutate import mutants
from fuzz.targets import MESSAGE_TYPES, TARGETS, accepts

from i2p_streaming.data import (
    Certificate,
    Destination,
    Lease,
    LeaseSet2,
    OfflineSignature,
    PrivateKeys,
    SigType,
    decode_date,
    decode_mapping,
    decode_string,
)
from i2p_streaming.datagrams import parse_datagram2, parse_datagram3, parse_repliable
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp import unwrap
from i2p_streaming.i2cp.messages import decode_message
from i2p_streaming.streaming import Packet

#: Mutants per target in the short run (14 targets: 14,000 inputs in all, a few seconds).
MUTANTS = 1000


def _parse_datagram(data: bytes) -> object:
    """The parser of the datagram's protocol (raw: the payload itself)."""
    parsers: dict[int, Callable[[bytes], object]] = {
        0: parse_repliable,
        2: parse_datagram2,
        3: parse_datagram3,
    }
    parse = parsers.get(data[0] % 4)
    return data[1:] if parse is None else parse(data[1:])


#: How each target's main parser reads a seed (every seed must parse: a corpus of inputs the
#: parser rejects at once would fuzz nothing but the first check).
PRIMARY: dict[str, Callable[[bytes], object]] = {
    "packet": Packet.decode,
    "packet_verify": lambda d: Packet.decode(d[1:]),
    "i2cp_message": lambda d: decode_message(d[0], d[1:]),
    "frame_reader": lambda d: d[2:] or None,
    "payload": unwrap,
    "destination": Destination.from_bytes,
    "certificate": Certificate.from_bytes,
    "offline_signature": lambda d: OfflineSignature.from_bytes(d, 1, list(SigType)[d[0]]),
    "leaseset2": LeaseSet2.from_bytes,
    "lease": Lease.from_bytes,
    "mapping": lambda d: accepts(decode_mapping, d) or accepts(decode_string, d) or decode_date(d),
    "private_keys": PrivateKeys.from_bytes,
    "sam_private_keys": lambda d: (
        accepts(PrivateKeys.from_base64, d.decode()) or Destination.from_base64(d.decode())
    ),
    "datagram": lambda d: _parse_datagram(d),
}
#: Seeds that are meant to be rejected (they exercise the error paths).
REJECTED_SEEDS = {("payload", "bomb-4mib-zeros"), ("lease", "lease2")}


def _regression_params(root: Path = REGRESSIONS_DIR) -> list[Any]:
    """One ``pytest.param`` per kept input (pytest does not export the type: Any)."""
    params: list[Any] = []
    for target in TARGETS:
        for path in regression_files(target, root):
            reason = xfail_reason(path)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(target, path, marks=marks, id=f"{target}/{path.name}"))
    return params


def test_every_target_has_a_small_seed_corpus() -> None:
    assert set(PRIMARY) == set(TARGETS)
    for name, target in TARGETS.items():
        files = seed_files(name)
        assert files, f"{name} has no seeds"
        sizes = [p.stat().st_size for p in files]
        assert sum(sizes) <= 16 * 1024, f"{name} seed corpus is {sum(sizes)} bytes"
        assert max(sizes) <= target.max_len


def test_seeds_cover_every_i2cp_message_type() -> None:
    seeded = {p.read_bytes()[0] for p in seed_files("i2cp_message")}
    assert set(MESSAGE_TYPES) <= seeded
    assert seeded - set(MESSAGE_TYPES), "no seed of an unknown type"
    for path in seed_files("frame_reader"):
        assert len(path.read_bytes()) > 2


@pytest.mark.parametrize("target", list(TARGETS))
def test_seeds_parse(target: str) -> None:
    for path in seed_files(target):
        if (target, path.name) in REJECTED_SEEDS:
            with pytest.raises(DataFormatError):
                PRIMARY[target](path.read_bytes())
        else:
            assert PRIMARY[target](path.read_bytes()) is not None, path.name


@pytest.mark.parametrize("target", list(TARGETS))
def test_short_run(target: str) -> None:
    """Seeds, then MUTANTS deterministic mutants of them, through the target."""
    spec = TARGETS[target]
    seeds = [p.read_bytes() for p in seed_files(target)]
    for data in seeds:
        spec.one_input(data)
    for data in mutants(seeds, MUTANTS, zlib.crc32(target.encode()), spec.max_len):
        try:
            spec.one_input(data)
        except Exception as exc:
            raise AssertionError(f"{target} failed on {data.hex()}") from exc


@pytest.mark.parametrize(("target", "path"), _regression_params())
def test_regression(target: str, path: Path) -> None:
    """A kept crashing input no longer breaks its target."""
    TARGETS[target].one_input(path.read_bytes())


def test_regression_params_mark_open_bugs_strict_xfail(tmp_path: Path) -> None:
    """How kept inputs become tests (while fuzz/regressions/ holds none, this shows it works)."""
    (tmp_path / "packet").mkdir()
    (tmp_path / "packet" / "crash-aa").write_bytes(b"\x00" * 30)
    (tmp_path / "packet" / "crash-bb").write_bytes(b"\x01")
    (tmp_path / "packet" / "crash-bb.xfail").write_text("IndexError from Packet.decode\n")
    fixed, open_bug = _regression_params(tmp_path)
    assert fixed.values == ("packet", tmp_path / "packet" / "crash-aa")
    assert fixed.id == "packet/crash-aa" and not fixed.marks
    (mark,) = open_bug.marks
    assert mark.name == "xfail" and mark.kwargs == {
        "strict": True,
        "reason": "IndexError from Packet.decode",
    }


def test_regression_folders_name_real_targets() -> None:
    if REGRESSIONS_DIR.is_dir():
        folders = {p.name for p in REGRESSIONS_DIR.iterdir() if p.is_dir()}
        assert folders <= set(TARGETS)


def test_a_contract_violation_is_reported() -> None:
    """The harness turns only DataFormatError into 'rejected': anything else escapes."""

    def broken(data: bytes) -> None:
        raise IndexError(data)

    def silent(data: bytes) -> None:
        raise DataFormatError("")

    assert accepts(Packet.decode, b"short") is None
    with pytest.raises(IndexError):
        accepts(broken, b"x")
    with pytest.raises(AssertionError, match="without a message"):
        accepts(silent, b"x")


def test_mutants_are_deterministic() -> None:
    seeds = [bytes(range(40)), b"abc"]
    first = list(mutants(seeds, 50, 7, 64))
    assert first == list(mutants(seeds, 50, 7, 64))
    assert first != list(mutants(seeds, 50, 8, 64))
    assert all(len(m) <= 64 for m in first)


def test_gzip_bomb_stays_within_the_cap() -> None:
    """4 MiB of zeros in 4 KB: unwrap refuses it after inflating at most cap + 1 bytes."""
    (bomb,) = (p for p in seed_files("payload") if p.name == "bomb-4mib-zeros")
    blob = bomb.read_bytes()
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match="cap"):
            unwrap(blob, max_size=65536)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 65536 + 64 * 1024


def test_mutate_engine_runs_a_target(capsys: pytest.CaptureFixture[str]) -> None:
    """The no-atheris fallback of ``make fuzz`` (a child process, one second)."""
    assert run.main(["--engine", "mutate", "--seconds", "1", "lease"]) == 0
    out = capsys.readouterr().out
    assert "lease" in out and " ok" in out
