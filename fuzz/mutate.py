"""A small deterministic byte mutator: what the CI-short run and the no-atheris engine use.

Mutations are the usual libFuzzer-style edits on a seed (bit flip, interesting byte or
big-endian length, insert, delete, duplicate a block, truncate, splice with another seed),
one to four of them per input, drawn from a seeded :class:`random.Random`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

__all__ = ["mutant", "mutants"]

_BYTES = (0x00, 0x01, 0x02, 0x03, 0x05, 0x07, 0x08, 0x0B, 0x20, 0x3D, 0x3B, 0x7F, 0x80, 0xFF)
_WORDS = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF)


def mutant(rng: random.Random, seed: bytes, others: Sequence[bytes], max_len: int) -> bytes:
    """One mutated copy of ``seed`` (at most ``max_len`` bytes)."""
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        pos = rng.randint(0, len(data))
        if op == 0 and pos < len(data):
            data[pos] ^= 1 << rng.randrange(8)
        elif op == 1 and pos < len(data):
            data[pos] = rng.choice(_BYTES)
        elif op == 2 and pos + 1 < len(data):
            data[pos : pos + 2] = rng.choice(_WORDS).to_bytes(2, "big")
        elif op == 3:
            data[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif op == 4:
            del data[pos : pos + rng.randint(1, 16)]
        elif op == 5:
            del data[pos:]
        elif op == 6 and data:
            start = rng.randrange(len(data))
            block = data[start : start + rng.randint(1, 64)]
            data[pos:pos] = block
        elif op == 7 and others:
            other = rng.choice(others)
            cut = rng.randint(0, len(other))
            data[pos:] = other[cut:]
        elif op == 8 and pos + 3 < len(data):
            data[pos : pos + 4] = rng.randrange(1 << 32).to_bytes(4, "big")
    return bytes(data[:max_len])


def mutants(seeds: Sequence[bytes], count: int, rng_seed: int, max_len: int) -> Iterator[bytes]:
    """``count`` inputs derived from ``seeds``: mostly mutants, one in sixteen random bytes."""
    rng = random.Random(rng_seed)
    pool = list(seeds) or [b""]
    for _ in range(count):
        if rng.randrange(16) == 0:
            yield rng.randbytes(rng.randint(0, min(max_len, 600)))
        else:
            yield mutant(rng, rng.choice(pool), pool, max_len)
