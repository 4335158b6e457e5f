"""Every Python sample of README.md and docs/ runs, as written, against the embedded router.

A fenced ``python`` block is marked by the HTML comment on the line before it (invisible on
GitHub and in the site):

- ``<!-- runnable -->``: run as a script in a fresh interpreter and an empty folder, with
  ``127.0.0.1:7654`` (the router the text tells the reader to start) replaced by the
  embedded router of this test;
- ``<!-- runnable: names -->``: the same after what the text's shell lines do: ``site.dat``
  (a key file) exists and the router resolves ``mysite.i2p`` to it;
- ``<!-- not runnable: REASON -->``: shown only (a sample of an API still to come, a
  fragment); the reason is required.

A block without a mark fails :func:`test_every_python_block_is_marked`, so no sample escapes.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.router import EmbeddedRouter

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
#: The router address samples use (what ``i2p-streaming router`` listens on).
SAMPLE_ROUTER = "127.0.0.1:7654"
SAMPLE_TIMEOUT = 60.0

_BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_MARK = re.compile(r"<!-- (runnable(?:: (\w+))?|not runnable: [^>]+) -->\s*$")


@dataclass(frozen=True, slots=True)
class Sample:
    """One fenced python block: where it is, its mark (None: unmarked) and its code."""

    where: str
    mark: str | None
    setup: str | None
    code: str

    @property
    def runnable(self) -> bool:
        return self.mark is not None and self.mark.startswith("runnable")


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def collect() -> list[Sample]:
    """Every python block of the README and docs/, with the mark on the line before it."""
    samples = []
    for path in _documents():
        text = path.read_text()
        for match in _BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            mark = _MARK.search(before)
            samples.append(
                Sample(
                    f"{path.relative_to(ROOT)}:{line}",
                    mark.group(1) if mark else None,
                    mark.group(2) if mark else None,
                    match.group(1),
                )
            )
    return samples


SAMPLES = collect()
RUNNABLE = [s for s in SAMPLES if s.runnable]


def test_every_python_block_is_marked() -> None:
    unmarked = [s.where for s in SAMPLES if s.mark is None]
    assert unmarked == []
    assert len(RUNNABLE) >= 8  # the README's quick start and the docs' tutorials at least


def test_the_readme_quick_start_is_runnable() -> None:
    readme = [s for s in RUNNABLE if s.where.startswith("README.md")]
    assert readme, "the README has no runnable sample"
    assert "open_connection" in readme[0].code


def test_the_readme_links_point_at_files() -> None:
    """The README is not in the site, so ``mkdocs build --strict`` does not check its links."""
    text = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text)
    assert targets
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert missing == []


@dataclass
class RouterThread:
    router: EmbeddedRouter
    loop: asyncio.AbstractEventLoop

    @property
    def address(self) -> str:
        host, port = self.router.address
        return f"{host}:{port}"


@pytest.fixture(scope="module")
def router() -> Iterator[RouterThread]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    router = EmbeddedRouter(seed=5)
    asyncio.run_coroutine_threadsafe(router.start(), loop).result(10)
    yield RouterThread(router, loop)
    asyncio.run_coroutine_threadsafe(router.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def _names(router: RouterThread, folder: Path) -> None:
    """What the text's shell lines do: ``keygen site.dat`` and ``router --hosts``."""
    keys = PrivateKeys.generate()
    keys.save(folder / "site.dat")

    async def register() -> None:
        router.router.register_name("mysite.i2p", keys.destination)

    asyncio.run_coroutine_threadsafe(register(), router.loop).result(10)


SETUPS = {None: lambda router, folder: None, "names": _names}


@pytest.mark.timeout(SAMPLE_TIMEOUT + 30)
@pytest.mark.parametrize("sample", RUNNABLE, ids=[s.where for s in RUNNABLE])
def test_sample_runs(sample: Sample, router: RouterThread, tmp_path: Path) -> None:
    assert sample.setup in SETUPS, f"{sample.where}: unknown mark {sample.mark!r}"
    SETUPS[sample.setup](router, tmp_path)
    code = sample.code.replace(SAMPLE_ROUTER, router.address)
    env = {k: v for k, v in os.environ.items() if k != "I2CP_ROUTER"}
    env["PYTHONPATH"] = str(SRC)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=SAMPLE_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"{sample.where} failed:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
