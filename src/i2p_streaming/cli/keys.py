"""``i2p-streaming keygen FILE`` and ``keyinfo FILE``: private-key files.

The file is the binary private-key format (Destination, encryption private key, signing
private key, optional offline block) that i2pd reads as a tunnel's ``keys =`` and Java I2P's
i2ptunnel as its private key file: both routers use the same layout, so ``--format i2pd`` and
``--format java`` write the same bytes (crypto type 0 slot, random and unused: the session's
ECIES keys are made by the router or the client per session).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import sys
import tempfile
from typing import Any, TextIO

from i2p_streaming.cli.common import CommandError, load_key_file
from i2p_streaming.data import PrivateKeys, SigType

__all__ = ["SIG_TYPES", "describe_keys", "register", "write_key_file"]

#: ``--sig-type`` names -> signature types that can make keys.
SIG_TYPES: dict[str, SigType] = {
    "ed25519": SigType.EdDSA_SHA512_Ed25519,
    "ecdsa-p256": SigType.ECDSA_SHA256_P256,
    "ecdsa-p384": SigType.ECDSA_SHA384_P384,
    "ecdsa-p521": SigType.ECDSA_SHA512_P521,
    "dsa-sha1": SigType.DSA_SHA1,
}
FORMATS = ("i2pd", "java")


def _sig_type(text: str) -> SigType:
    low = text.strip().lower()
    if low in SIG_TYPES:
        return SIG_TYPES[low]
    for st in SIG_TYPES.values():
        if low in (st.name.lower(), str(int(st))):
            return st
    raise argparse.ArgumentTypeError(
        f"invalid signature type {text!r}: choose from {', '.join(SIG_TYPES)}"
    )


_sig_type.__name__ = "signature type"


def register(subparsers: Any) -> None:
    """Add the ``keygen`` and ``keyinfo`` subcommands."""
    p = subparsers.add_parser(
        "keygen",
        help="write a new private-key file (i2pd keys = / i2ptunnel private key file)",
        description="Create a new destination and write its private keys to FILE (mode "
        "0600, atomically); an existing FILE is kept unless --force.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--sig-type",
        type=_sig_type,
        default=SigType.EdDSA_SHA512_Ed25519,
        metavar="TYPE",
        help=f"signature type: {', '.join(SIG_TYPES)} (default ed25519)",
    )
    p.add_argument(
        "--format", choices=FORMATS, default="i2pd", help="reader of the file (same bytes)"
    )
    p.add_argument("--force", action="store_true", help="replace an existing FILE")
    p.set_defaults(run=run_keygen)
    q = subparsers.add_parser(
        "keyinfo",
        help="print the addresses and key types of a private-key file",
        description="Print b32, base64, signature and encryption types and the offline-"
        "signature state of a private-key file (i2pd, Java I2P or keygen).",
    )
    q.add_argument("file", metavar="FILE")
    q.set_defaults(run=run_keyinfo)


def write_key_file(keys: PrivateKeys, path: str, *, force: bool = False) -> None:
    """Write ``keys`` to ``path`` with mode 0600 through a temporary file in the same folder
    and ``os.replace``; ``FileExistsError`` if ``path`` exists and not ``force``."""
    target = os.path.abspath(path)
    folder = os.path.dirname(target)
    fd, tmp = tempfile.mkstemp(prefix=".keygen-", dir=folder)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(keys.to_bytes())
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, target)
        else:
            _publish_new(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _publish_new(tmp: str, target: str) -> None:
    """Give ``tmp`` the name ``target`` unless that exists (FileExistsError)."""
    try:
        os.link(tmp, target)  # fails if target exists: no race with another writer
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: check, then rename
        if os.path.lexists(target):
            raise FileExistsError(target) from None
        os.replace(tmp, target)
    else:
        os.unlink(tmp)


def describe_keys(keys: PrivateKeys) -> list[str]:
    """``key: value`` lines for keyinfo."""
    dest = keys.destination
    lines = [
        f"b32: {dest.b32}",
        f"base64: {dest.to_base64()}",
        f"signature type: {dest.sig_type.name} ({int(dest.sig_type)})",
        f"encryption type: {dest.enc_type.name} ({int(dest.enc_type)})",
    ]
    if keys.offline is None:
        lines.append("offline signature: none")
    else:
        expires = datetime.datetime.fromtimestamp(keys.offline.expires, datetime.UTC)
        ttype = keys.offline.transient_sig_type
        state = "expired" if expires < datetime.datetime.now(datetime.UTC) else "valid"
        lines.append(
            f"offline signature: {state}, transient {ttype.name} ({int(ttype)}), "
            f"expires {expires:%Y-%m-%d %H:%M:%S} UTC"
        )
    return lines


def run_keygen(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Write the key file and print its b32; exit 1 on an I/O error or an existing FILE."""
    out = out or sys.stdout
    try:
        keys = PrivateKeys.generate(args.sig_type)
        write_key_file(keys, args.file, force=args.force)
    except FileExistsError:
        print(f"keygen: {args.file} exists (use --force to replace it)", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"keygen: cannot write {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.file} ({args.format}): {keys.destination.b32}", file=out)
    return 0


def run_keyinfo(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print :func:`describe_keys`; exit 2 when the file cannot be read or parsed."""
    out = out or sys.stdout
    try:
        keys = load_key_file(args.file)
    except CommandError as exc:
        print(f"keyinfo: {exc}", file=sys.stderr)
        return exc.status
    for line in describe_keys(keys):
        print(line, file=out)
    return 0
