"""Test vectors with CIDs that Kubo gave, and the generators of their file contents.

Where every expected CID comes from is in ``fixtures/README.md``. Three recipes:

* ``pattern(n)``: byte ``i`` is ``i % 251`` (no period aligned with 256 KiB chunks).
* ``kubo_deterministic(size, seed)``: Kubo's ``testutils.DeterministicRandomReader``
  (kubo/test/cli/testutils/random_deterministic.go): the ChaCha20 key stream with
  key ``sha256(seed)`` and an all-zero 12-byte nonce.
* ``go_random(size, seed)``: the ``random SIZE SEED`` tool that Kubo's sharness
  tests use (jbenet/go-random ``WritePseudoRandomBytes``: Go's ``math/rand``
  seeded with SEED, each ``Uint32`` written as 4 little-endian bytes; checked
  against the SHA-1 the sharness tests assert). Reproducing Go's
  generator needs its ``rngCooked`` table, which is read at run time from a
  local Go source tree (Debian's ``golang-1.19-src``), never copied here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from Crypto.Cipher import ChaCha20

__all__ = [
    "FIXTURES",
    "KIB",
    "MIB",
    "Vector",
    "go_random",
    "go_rng_source",
    "kubo_deterministic",
    "load_vectors",
    "pattern",
]

KIB = 1024
MIB = 1024 * KIB
_GEN_BLOCK = 4 * MIB


FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Vector:
    """One row of ``fixtures/cid_vectors.json``: how to make the bytes, the options, the CID."""

    name: str
    recipe: dict[str, Any]
    options: dict[str, Any]
    cid: str
    source: str
    slow: bool = False

    @property
    def size(self) -> int:
        if self.recipe["kind"] == "text":
            return len(self.recipe["text"].encode())
        return int(self.recipe["size"])

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes, in pieces (large files are never whole in memory)."""
        kind = self.recipe["kind"]
        if kind == "text":
            yield self.recipe["text"].encode()
        elif kind == "pattern":
            yield pattern(self.size)
        elif kind == "kubo_deterministic":
            yield from kubo_deterministic(self.size, self.recipe["seed"])
        elif kind == "go_random":
            source = go_rng_source()
            if source is None:
                raise LookupError("Go's math/rand source is not installed")
            yield from go_random(self.size, int(self.recipe["seed"]), source)
        else:
            raise ValueError(f"unknown recipe {kind!r}")


def load_vectors() -> list[Vector]:
    """Every vector of ``fixtures/cid_vectors.json``."""
    document = json.loads((FIXTURES / "cid_vectors.json").read_text())
    return [Vector(**row) for row in document["vectors"]]


def pattern(size: int) -> bytes:
    """``size`` bytes where byte ``i`` is ``i % 251``."""
    period = bytes(range(251))
    return (period * (size // 251 + 1))[:size]


def kubo_deterministic(size: int, seed: str) -> Iterator[bytes]:
    """Kubo's DeterministicRandomReaderBytes(size, seed), in pieces of at most 4 MiB."""
    cipher = ChaCha20.new(key=hashlib.sha256(seed.encode()).digest(), nonce=bytes(12))
    zeros = bytes(_GEN_BLOCK)
    left = size
    while left > 0:
        n = min(left, _GEN_BLOCK)
        yield cipher.encrypt(zeros[:n])
        left -= n


_GO_RNG_CANDIDATES = (
    "/usr/share/go-1.19/src/math/rand/rng.go",
    "/usr/lib/go/src/math/rand/rng.go",
    "/usr/local/go/src/math/rand/rng.go",
)


def go_rng_source() -> Path | None:
    """Go's ``src/math/rand/rng.go`` on this machine ($GO_RNG_SOURCE first), or None."""
    override = os.environ.get("GO_RNG_SOURCE")
    for candidate in ((override,) if override else ()) + _GO_RNG_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _go_rng_cooked(source: Path) -> list[int]:
    text = source.read_text()
    body = text[
        text.index("rngCooked [") if "rngCooked [" in text else text.index("rng_cooked [") :
    ]
    body = body[body.index("{") + 1 : body.index("}")]
    values = [int(v) for v in re.findall(r"-?\d+", body)]
    if len(values) != 607:
        raise ValueError(f"{source}: expected 607 cooked values, found {len(values)}")
    return values


def _go_uint32s(seed: int, count: int, cooked: list[int]) -> Iterator[list[int]]:
    """Go's math/rand (Seed(seed)) Uint32 outputs, in lists of up to 273 values."""
    length, tap, mod_m, mask = 607, 273, (1 << 31) - 1, (1 << 63) - 1

    def seedrand(x: int) -> int:
        hi, lo = divmod(x, 44488)
        x = 48271 * lo - 3399 * hi
        return x + mod_m if x < 0 else x

    seed %= mod_m
    if seed == 0:
        seed = 89482311
    x = seed
    vec = [0] * length
    for i in range(-20, length):
        x = seedrand(x)
        if i >= 0:
            u = x << 40
            x = seedrand(x)
            u ^= x << 20
            x = seedrand(x)
            u ^= x
            vec[i] = (u ^ cooked[i]) & mask
    # Int63 reads vec[feed] + vec[tap] going down from feed=334, tap=0 (mod 607): as a
    # sequence s (oldest first) that is s[n] = s[n-607] + s[n-273] (mod 2**63).
    seq = [vec[(length - tap - 1 - i) % length] for i in range(length)]
    produced = 0
    while produced < count:
        n = min(tap, count - produced)
        start = len(seq)
        new = [
            (a + b) & mask
            for a, b in zip(
                seq[start - length : start - length + n],
                seq[start - tap : start - tap + n],
                strict=True,
            )
        ]
        seq.extend(new)
        del seq[: len(seq) - length]
        produced += n
        yield [v >> 31 for v in new]


def go_random(size: int, seed: int, rng_source: Path) -> Iterator[bytes]:
    """The bytes of go-random's ``random SIZE SEED``: each Uint32 as 4 little-endian bytes."""
    words = _go_uint32s(seed, -(-size // 4), _go_rng_cooked(rng_source))
    left = size
    for batch in words:
        piece = b"".join(w.to_bytes(4, "little") for w in batch)[:left]
        left -= len(piece)
        yield piece
