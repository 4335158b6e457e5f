"""Reading an i2pd ``tunnels.conf``-style file into :class:`TunnelSpec` values.

The format is i2pd's: ``[name]`` sections of ``key = value`` lines; lines starting with
``#`` or ``;`` and blank lines are skipped. The key names are i2pd's (``type``, ``address``,
``port``, ``destination``, ``destinationport``, ``host``, ``inport``, ``keys``,
``accesslist``, ``signaturetype``) plus I2CP/streaming options (``inbound.*``,
``outbound.*``, ``i2cp.*``, ``i2p.streaming.*``) given to the section's session. Types
``client``, ``server``, ``socks`` and ``httpproxy`` (the last two with ``address``, ``port``
and ``keys``). i2pd-only keys that change nothing here (``gzip``, ``cryptotype``,
``enableuniquelocal``, ``crypto.*``, ...) are kept in :attr:`TunnelSpec.ignored` so the
caller can say so. Every error is a :class:`ConfigError` whose message starts with
``FILE:LINE:``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from i2p_streaming.cli.common import check_destination
from i2p_streaming.data import SigType

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_TUNNELS",
    "ConfigError",
    "TunnelSpec",
    "load_tunnels",
    "parse_tunnels",
]

#: Largest file read, and most sections in one file.
MAX_CONFIG_BYTES = 1 << 20
MAX_TUNNELS = 256
TYPES = ("client", "server", "socks", "httpproxy")
_KNOWN = frozenset(
    {
        "type",
        "address",
        "port",
        "destination",
        "destinationport",
        "host",
        "inport",
        "keys",
        "accesslist",
        "signaturetype",
    }
)
_OPTION_PREFIXES = ("inbound.", "outbound.", "i2cp.", "i2p.streaming.")
_IGNORED = frozenset(
    {
        "gzip",
        "cryptotype",
        "enableuniquelocal",
        "keepaliveinterval",
        "explicitpeers",
        "i2ptunnel",
        "sslport",
        "matchtunnels",
        "keepalive",
    }
)
_IGNORED_PREFIXES = ("crypto.",)


class ConfigError(ValueError):
    """An invalid tunnels file; the message starts with ``FILE:LINE:``."""


@dataclass(frozen=True, slots=True)
class TunnelSpec:
    """One section. ``where`` is ``FILE:LINE`` of its ``[name]``; ``keys`` a path (relative
    names resolved against the file's folder) or None for transient keys; ``port`` the
    local TCP port (client) or the target's port (server); ``inport`` the I2P port of a
    server (``port`` unless given); ``options`` the section's session options."""

    name: str
    kind: str
    where: str
    port: int
    address: str | None = None
    destination: str | None = None
    destination_port: int = 0
    host: str | None = None
    inport: int = 0
    keys: str | None = None
    sig_type: SigType = SigType.EdDSA_SHA512_Ed25519
    accesslist: frozenset[str] | None = None
    options: tuple[tuple[str, str], ...] = ()
    ignored: tuple[str, ...] = ()


@dataclass(slots=True)
class _Section:
    name: str
    line: int
    #: lower-case key -> (key as written, value, line)
    values: dict[str, tuple[str, str, int]]


def _split(text: str, filename: str) -> list[_Section]:
    sections: list[_Section] = []
    names: set[str] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        where = f"{filename}:{number}"
        if line.startswith("["):
            if not line.endswith("]") or not line[1:-1].strip():
                raise ConfigError(f"{where}: expected [name], got {line[:60]!r}")
            name = line[1:-1].strip()
            if name in names:
                raise ConfigError(f"{where}: section [{name}] appears twice")
            if len(sections) >= MAX_TUNNELS:
                raise ConfigError(f"{where}: more than {MAX_TUNNELS} tunnels")
            names.add(name)
            sections.append(_Section(name, number, {}))
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"{where}: expected key = value, got {line[:60]!r}")
        if not sections:
            raise ConfigError(f"{where}: {key!r} before the first [section]")
        values = sections[-1].values
        if key.lower() in values:
            raise ConfigError(f"{where}: {key!r} given twice in [{sections[-1].name}]")
        values[key.lower()] = (key, value.strip(), number)
    return sections


class _Reader:
    """The values of one section, each error naming its file and line."""

    def __init__(self, section: _Section, filename: str) -> None:
        self._section = section
        self._filename = filename

    def where(self, key: str | None = None) -> str:
        entry = None if key is None else self._section.values.get(key)
        line = self._section.line if entry is None else entry[2]
        return f"{self._filename}:{line}"

    def fail(self, key: str | None, message: str) -> ConfigError:
        return ConfigError(f"{self.where(key)}: [{self._section.name}] {message}")

    def get(self, key: str) -> str | None:
        entry = self._section.values.get(key)
        return None if entry is None or entry[1] == "" else entry[1]

    def require(self, key: str, kind: str) -> str:
        value = self.get(key)
        if value is None:
            raise self.fail(key, f"a {kind} tunnel needs {key} =")
        return value

    def port(self, key: str, default: int | None, low: int = 1) -> int:
        text = self.get(key)
        if text is None:
            if default is None:
                raise self.fail(None, f"needs {key} =")
            return default
        if not text.isdigit() or not low <= int(text) < 65536:
            raise self.fail(key, f"{key} = {text!r}: expected a port {low}-65535")
        return int(text)


def _sig_type(r: _Reader) -> SigType:
    text = r.get("signaturetype")
    if text is None:
        return SigType.EdDSA_SHA512_Ed25519
    try:
        st = SigType(int(text))
    except ValueError:
        raise r.fail("signaturetype", f"signaturetype = {text!r}: not a known number") from None
    if st not in (
        SigType.DSA_SHA1,
        SigType.ECDSA_SHA256_P256,
        SigType.ECDSA_SHA384_P384,
        SigType.ECDSA_SHA512_P521,
        SigType.EdDSA_SHA512_Ed25519,
    ):
        raise r.fail("signaturetype", f"signaturetype = {text}: cannot make keys of {st.name}")
    return st


def _keys(r: _Reader, folder: str) -> str | None:
    text = r.get("keys")
    if text is None or text.lower().startswith("transient"):
        return None
    return os.path.normpath(os.path.join(folder, text))


def _accesslist(r: _Reader) -> frozenset[str] | None:
    text = r.get("accesslist")
    if text is None:
        return None
    names = {item.strip().lower().removesuffix(".b32.i2p") for item in text.split(",")}
    names.discard("")
    for name in names:
        if len(name) < 52 or not name.isalnum():
            raise r.fail("accesslist", f"accesslist: {name[:60]!r} is not a b32 address")
    return frozenset(names)


def _spec(section: _Section, filename: str, folder: str) -> TunnelSpec:
    r = _Reader(section, filename)
    kind = (r.get("type") or "").lower()
    if not kind:
        raise r.fail(None, f"needs type = ({', '.join(TYPES)})")
    if kind not in TYPES:
        raise r.fail("type", f"type = {kind}: not supported here ({', '.join(TYPES)})")
    options: list[tuple[str, str]] = []
    ignored: list[str] = []
    for key, (original, value, number) in section.values.items():
        if key in _KNOWN:
            continue
        if key.startswith(_OPTION_PREFIXES):
            options.append((original, value))
        elif key in _IGNORED or key.startswith(_IGNORED_PREFIXES):
            ignored.append(original)
        else:
            raise ConfigError(f"{filename}:{number}: [{section.name}] unknown key {original!r}")
    base = TunnelSpec(
        name=section.name,
        kind=kind,
        where=r.where(),
        port=0,
        keys=_keys(r, folder),
        sig_type=_sig_type(r),
        options=tuple(options),
        ignored=tuple(ignored),
    )
    if kind == "client":
        dest = r.require("destination", kind)
        try:
            dest = check_destination(dest)
        except ValueError as exc:
            raise r.fail("destination", str(exc)) from None
        return replace(
            base,
            port=r.port("port", None, low=0),
            address=r.get("address") or "127.0.0.1",
            destination=dest,
            destination_port=r.port("destinationport", 0, low=0),
        )
    if kind in ("socks", "httpproxy"):
        return replace(base, port=r.port("port", None, low=0), address=r.get("address"))
    port = r.port("port", None)
    return replace(
        base,
        port=port,
        host=r.require("host", kind),
        inport=r.port("inport", port),
        address=r.get("address"),
        accesslist=_accesslist(r),
    )


def parse_tunnels(text: str, filename: str = "<tunnels>", folder: str = ".") -> list[TunnelSpec]:
    """The tunnels of ``text`` in file order (``folder``: where relative ``keys`` are);
    :class:`ConfigError` naming ``filename:line`` for the first problem, or when there is
    no section at all."""
    sections = _split(text, filename)
    if not sections:
        raise ConfigError(f"{filename}:1: no [tunnel] section")
    return [_spec(section, filename, folder) for section in sections]


def load_tunnels(path: str) -> list[TunnelSpec]:
    """:func:`parse_tunnels` of the file at ``path`` (relative keys next to it);
    :class:`ConfigError` also when the file cannot be read or is too large."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
    return parse_tunnels(text, path, os.path.dirname(os.path.abspath(path)))
