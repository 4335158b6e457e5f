"""``benchmarks/paths.py --peer java``: its argument handling and its skip without Java I2P
(the mode itself is a benchmark: it reports figures, never pass/fail)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:  # paths.py imports pathsim and pathsjava from here
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def paths() -> ModuleType:
    return _load("paths")


def test_list_names_the_six_java_cells(
    paths: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    paths.main(["--peer", "java", "--list"])
    names = capsys.readouterr().out.split()
    assert names == [f"java-rtt{r}-loss{p}" for r in (300, 600) for p in (0, 1, 3)]


def test_unknown_java_cell_is_an_argument_error(paths: ModuleType) -> None:
    with pytest.raises(SystemExit) as exc:
        paths.main(["--peer", "java", "--cells", "rtt300-loss0"])  # a simulated cell's name
    assert exc.value.code == 2


def test_without_java_home_it_skips_and_says_why(
    paths: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("JAVA_I2P_HOME", raising=False)
    out = tmp_path / "java.json"
    paths.main(["--peer", "java", "--json", str(out)])
    report = json.loads(out.read_text())
    assert report["mode"] == "java" and "cells_java" not in report
    assert "JAVA_I2P_HOME" in report["skipped"]
    assert "skipped" in capsys.readouterr().err


def test_java_retransmissions_from_the_router_count() -> None:
    pathsjava = _load("pathsjava")
    m = pathsjava._java_metrics("1 95 12 350")
    assert m == {
        "java_dup_counter": 1,
        "distinct_packets": 95,
        "window_end": 12,
        "rtt_end_s": 0.35,
    }
    m["path_messages_at_stats"] = 100
    pathsjava._java_retransmissions(m)
    assert (m["retransmitted"], m["data_packets"], m["retrans_ratio"]) == (5, 100, 0.05)
    none = pathsjava._java_metrics("-") | {"path_messages_at_stats": 100}
    pathsjava._java_retransmissions(none)
    assert none["retrans_ratio"] is None and none["distinct_packets"] is None
