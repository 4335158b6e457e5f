"""Host names for the embedded router: the ``hosts.txt`` format and ``NAME=DEST`` entries.

A hosts file has one ``name=base64destination`` per line; blank lines and lines starting
with ``#`` are ignored, and a trailing ``#!key=value#...`` block (the extended format of the
address-book subscriptions) is dropped. Names are stored lower-case.
"""

from __future__ import annotations

import os

from i2p_streaming.checks import check_host_name
from i2p_streaming.data import Destination
from i2p_streaming.errors import DataFormatError

__all__ = ["MAX_HOSTS_FILE_BYTES", "MAX_NAMES", "load_hosts", "parse_host_entry", "parse_hosts"]

#: Names one router (or one hosts file) holds at most.
MAX_NAMES = 10_000
#: Largest hosts file read (a full destination line is ~530 bytes).
MAX_HOSTS_FILE_BYTES = 16 << 20


def parse_host_entry(text: str) -> tuple[str, Destination]:
    """``NAME=BASE64DEST`` -> ``(name, Destination)``; ValueError with the reason."""
    name, sep, dest = text.partition("=")
    if not sep:
        raise ValueError(f"invalid host entry {text[:40]!r}: expected NAME=BASE64DESTINATION")
    dest = dest.split("#!", 1)[0].strip()
    try:
        destination = Destination.from_base64(dest)
    except (DataFormatError, ValueError) as exc:
        raise ValueError(f"invalid destination for {name.strip()!r}: {exc}") from None
    return check_host_name(name), destination


def parse_hosts(text: str, *, limit: int = MAX_NAMES) -> dict[str, Destination]:
    """Parse hosts.txt text into ``{name: Destination}`` (later lines win).

    Raises ValueError naming the line of the first bad entry, or when more than ``limit``
    names are given."""
    names: dict[str, Destination] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            name, dest = parse_host_entry(line)
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
        names[name] = dest
        if len(names) > limit:
            raise ValueError(f"line {number}: more than {limit} names")
    return names


def load_hosts(path: str | os.PathLike[str], *, limit: int = MAX_NAMES) -> dict[str, Destination]:
    """Read and parse a hosts file (OSError if unreadable, ValueError as :func:`parse_hosts`,
    or if the file is larger than :data:`MAX_HOSTS_FILE_BYTES`)."""
    with open(path, "rb") as fh:
        data = fh.read(MAX_HOSTS_FILE_BYTES + 1)
    if len(data) > MAX_HOSTS_FILE_BYTES:
        raise ValueError(f"{os.fspath(path)}: larger than {MAX_HOSTS_FILE_BYTES} bytes")
    try:
        return parse_hosts(data.decode("utf-8"), limit=limit)
    except UnicodeDecodeError:
        raise ValueError(f"{os.fspath(path)}: not UTF-8 text") from None
    except ValueError as exc:
        raise ValueError(f"{os.fspath(path)}: {exc}") from None
