"""Task derivation: from ``(seed(e), env id, version, miner, index)`` to a task seed.

The task seed is exactly what the contract computes::

    task_seed = keccak256(abi.encode(bytes32 seed, uint256 envId, uint256 version,
                                     address miner, uint256 index))

``abi.encode`` of five static types is five 32-byte words: the seed as is, each
integer big-endian, the address left-padded with 12 zero bytes. We build those
160 bytes directly (the tests check them against ``eth_abi.encode``) because a
validator derives tens of thousands of tasks per epoch.

From the 32-byte task seed the generators take (see worldgym/gym/README.md):

* ``item_seed``: bytes ``[0:4]`` as a big-endian uint32, the seed of the
  reasoning-gym item (reasoning-gym seeds are < 2**32; some datasets feed them
  to ``numpy.random.seed``, which rejects anything larger);
* ``pick``: bytes ``[4:12]`` as a big-endian uint64, which part of a composite
  generator the task comes from (:class:`WeightedPicker`);
* the whole 256-bit value, to seed generators of our own (``random.Random``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache

from eth_hash.auto import keccak

from worldgym.gym.errors import DerivationError

__all__ = [
    "UINT256_MAX",
    "WeightedPicker",
    "abi_words",
    "item_seed",
    "parse_address",
    "parse_seed",
    "pick_value",
    "pick_weighted",
    "task_seed",
]

UINT256_MAX = 2**256 - 1
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_SEED_HEX = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


@lru_cache(maxsize=1024)
def _seed_from_hex(seed: str) -> bytes | None:
    return bytes.fromhex(seed.removeprefix("0x")) if _SEED_HEX.match(seed) else None


@lru_cache(maxsize=4096)
def _address_from_hex(miner: str) -> bytes | None:
    return bytes.fromhex(miner[2:]) if _ADDRESS.match(miner) else None


def parse_seed(seed: bytes | str) -> bytes:
    """Return ``seed`` as 32 bytes; accepts raw bytes or 64 hex digits (``0x`` optional)."""
    if isinstance(seed, bytes | bytearray):
        if len(seed) != 32:
            raise DerivationError(f"seed must be 32 bytes (a bytes32), got {len(seed)} bytes")
        return bytes(seed)
    parsed = _seed_from_hex(seed) if isinstance(seed, str) else None
    if parsed is not None:
        return parsed
    raise DerivationError(f"seed must be 32 bytes or 64 hex digits, got {seed!r:.80}")


def parse_address(miner: str | bytes) -> bytes:
    """Return a miner address as 20 bytes; accepts ``0x`` + 40 hex digits (any case) or 20 bytes."""
    if isinstance(miner, bytes | bytearray):
        if len(miner) != 20:
            raise DerivationError(f"miner address must be 20 bytes, got {len(miner)}")
        return bytes(miner)
    parsed = _address_from_hex(miner) if isinstance(miner, str) else None
    if parsed is not None:
        return parsed
    raise DerivationError(f"miner must be an address (0x + 40 hex digits), got {miner!r:.80}")


def _uint256(name: str, value: int) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DerivationError(f"{name} must be an integer, got {type(value).__name__}")
    if not 0 <= value <= UINT256_MAX:
        raise DerivationError(f"{name} must be in [0, 2**256), got {value}")
    return value.to_bytes(32, "big")


@lru_cache(maxsize=4096)
def _head(seed: bytes | str, env_id: int, version: int, miner: str | bytes) -> bytes:
    """The first four ABI words (everything but the index), validated; cached per miner/epoch."""
    return b"".join(
        (
            parse_seed(seed),
            _uint256("env_id", env_id),
            _uint256("version", version),
            bytes(12) + parse_address(miner),
        )
    )


def abi_words(
    seed: bytes | str, env_id: int, version: int, miner: str | bytes, index: int
) -> bytes:
    """The 160 bytes of ``abi.encode(bytes32, uint256, uint256, address, uint256)``."""
    for name, value in (("env_id", env_id), ("version", version)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise DerivationError(f"{name} must be an integer, got {type(value).__name__}")
    if not isinstance(seed, bytes | str):
        seed = parse_seed(seed)  # a bytearray becomes bytes (hashable); anything else raises
    if not isinstance(miner, bytes | str):
        miner = parse_address(miner)
    return _head(seed, env_id, version, miner) + _uint256("index", index)


def task_seed(
    seed: bytes | str, env_id: int, version: int, miner: str | bytes, index: int
) -> bytes:
    """The 32-byte task seed, as ``WorldGym.sol`` computes it (see the module docstring).

    Raises:
        DerivationError: an input is malformed or out of its Solidity type's range.
    """
    return bytes(keccak(abi_words(seed, env_id, version, miner, index)))


def item_seed(task_seed_: bytes) -> int:
    """The reasoning-gym item seed of a task: bytes ``[0:4]`` big-endian (a uint32)."""
    return int.from_bytes(task_seed_[0:4], "big")


def pick_value(task_seed_: bytes) -> int:
    """The composite pick of a task: bytes ``[4:12]`` big-endian (a uint64)."""
    return int.from_bytes(task_seed_[4:12], "big")


class WeightedPicker:
    """Picks a composite part from a task seed, by exact rational weights.

    With ``v = pick_value(task_seed)`` and the weights taken as exact rationals
    (the exact value of each IEEE-754 double), the pick is the first ``i`` with
    ``v / 2**64 < (w_0 + ... + w_i) / (w_0 + ... + w_n)``. Exact arithmetic, so
    every machine picks the same part; the thresholds are computed once.
    """

    def __init__(self, weights: Sequence[float]) -> None:
        if not weights:
            raise DerivationError("a composite needs at least one weight")
        exact = [Fraction(w) for w in weights]
        if any(w <= 0 for w in exact):
            raise DerivationError(f"weights must be positive, got {list(weights)}")
        total = sum(exact, Fraction(0))
        running = Fraction(0)
        self._bounds: list[
            tuple[int, int]
        ] = []  # v < num * 2**64 / den  <=>  v * den < num * 2**64
        for weight in exact:
            running += weight
            share = running / total
            self._bounds.append((share.denominator, share.numerator << 64))

    def pick(self, task_seed_: bytes) -> int:
        """Index of the part the task with this seed comes from."""
        value = pick_value(task_seed_)
        for i, (den, scaled_num) in enumerate(self._bounds):
            if value * den < scaled_num:
                return i
        return len(self._bounds) - 1  # unreachable: the last share is exactly 1


def pick_weighted(task_seed_: bytes, weights: Sequence[float]) -> int:
    """:meth:`WeightedPicker.pick` for one task seed (build a picker to pick many)."""
    return WeightedPicker(weights).pick(task_seed_)
