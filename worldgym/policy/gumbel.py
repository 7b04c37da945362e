"""Verifiable sampling: Gumbel-max over the top-p nucleus with noise that comes from the chain.

Given the model, the task and the sample index, exactly one completion is
honest (docs/protocol-v2.md §1). Sample ``j`` of a task has the key
``keccak256("worldgym.sample/1" || task_seed || uint32_be(j))``; its first
eight bytes are two 32-bit words ``k0, k1``. The noise for position ``t`` and
token ``v`` is

    row(t) = mix32(mix32(k0 ^ mix32(t ^ 0x9E3779B9)) ^ k1)
    col(v) = mix32(v ^ 0x85EBCA6B)
    bits   = mix32(row(t) ^ col(v))
    u      = ((bits >> 9) + 0.5) / 2**23          # exact in float32, in (0, 1)
    g      = -log(-log(u))                        # a standard Gumbel variate

where ``mix32`` is Wellons' ``lowbias32`` 32-bit integer hash. Every step is
an integer operation evaluated in int64 without overflow (a product is always
a 32-bit value times a 16-bit half of a constant), so Python ints, numpy,
torch on CPU and CUDA, and a vLLM logits processor compute the same bits; only
the two logarithms are floating point, and their last-bit differences are far
below the validator's tolerance.

The token at each step is ``argmax over the nucleus of logits / T + g``: the
nucleus is the smallest set of most probable tokens (under
``softmax(logits / T)``, ties by token id) whose mass reaches ``top_p``.
That is an exact sample from top-p sampling at temperature ``T``. ``T = 0`` is
greedy decoding and uses no noise.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

__all__ = [
    "SAMPLE_DOMAIN",
    "SampleKey",
    "gumbel_numpy",
    "gumbel_torch",
    "key_tensor",
    "mix32",
    "nucleus_masks",
    "perturbed_scores",
    "seeded_keys",
]

SAMPLE_DOMAIN = b"worldgym.sample/1"
_MASK32 = 0xFFFFFFFF
_M1 = 0x7FEB352D
_M2 = 0x846CA68B
_ROW_SALT = 0x9E3779B9
_COL_SALT = 0x85EBCA6B
_UNIFORM_SCALE = 2.0**-23


@dataclass(frozen=True, slots=True)
class SampleKey:
    """The two 32-bit words that fix one sample's noise."""

    k0: int
    k1: int

    @classmethod
    def derive(cls, task_seed: bytes, sample: int) -> SampleKey:
        """The key of sample ``sample`` of the task with 32-byte seed ``task_seed``."""
        if len(task_seed) != 32:
            raise ValueError(f"a task seed is 32 bytes, got {len(task_seed)}")
        if not 0 <= sample < 2**32:
            raise ValueError(f"sample index {sample} does not fit in 32 bits")
        digest = keccak(SAMPLE_DOMAIN + task_seed + sample.to_bytes(4, "big"))
        k0, k1 = struct.unpack(">II", digest[:8])
        return cls(k0, k1)


def seeded_keys(seed: int, prompts: int, n: int) -> list[list[SampleKey]]:
    """Keys for uses outside the protocol (evaluation, benchmarks): reproducible from ``seed``."""
    base = keccak(b"worldgym.seeded/1" + (seed % 2**256).to_bytes(32, "big"))
    return [
        [SampleKey.derive(keccak(base + i.to_bytes(8, "big")), j) for j in range(n)]
        for i in range(prompts)
    ]


def _mul32(x: Any, constant: int) -> Any:
    """``x * constant mod 2**32`` for ``0 <= x < 2**32`` with every intermediate below 2**49."""
    low, high = constant & 0xFFFF, constant >> 16
    return (x * low + (((x * high) & 0xFFFF) << 16)) & _MASK32


def mix32(x: Any) -> Any:
    """Wellons' ``lowbias32`` on values in [0, 2**32): Python ints, numpy or torch int64 arrays."""
    x = x ^ (x >> 16)
    x = _mul32(x, _M1)
    x = x ^ (x >> 15)
    x = _mul32(x, _M2)
    return x ^ (x >> 16)


def _rows(k0: Any, k1: Any, positions: Any) -> Any:
    return mix32(mix32(k0 ^ mix32(positions ^ _ROW_SALT)) ^ k1)


def gumbel_numpy(key: SampleKey, positions: Sequence[int], vocab: int) -> Any:
    """The noise ``g[t, v]`` for ``positions`` x ``range(vocab)``, numpy float64 (the reference)."""
    import numpy as np

    rows = _rows(key.k0, key.k1, np.asarray(positions, dtype=np.int64))
    cols = mix32(np.arange(vocab, dtype=np.int64) ^ _COL_SALT)
    bits = mix32(rows[:, None] ^ cols[None, :])
    u = ((bits >> 9).astype(np.float64) + 0.5) * _UNIFORM_SCALE
    return -np.log(-np.log(u))


_COLUMNS: dict[tuple[int, str], Any] = {}


def _columns(torch: Any, vocab: int, device: Any) -> Any:
    cache_key = (vocab, str(device))
    cols = _COLUMNS.get(cache_key)
    if cols is None:
        cols = mix32(torch.arange(vocab, dtype=torch.int64, device=device) ^ _COL_SALT)
        _COLUMNS[cache_key] = cols
    return cols


def gumbel_torch(keys: Any, positions: Any, vocab: int) -> Any:
    """The noise for a batch of rows, as float32 ``[rows, vocab]`` on the tensors' device.

    ``keys`` is an int64 tensor ``[rows, 2]`` of ``(k0, k1)``; ``positions`` an
    int64 tensor ``[rows]`` (each row's position in its completion).
    """
    import torch

    rows = _rows(keys[:, 0], keys[:, 1], positions)
    bits = mix32(rows[:, None] ^ _columns(torch, vocab, keys.device)[None, :])
    u = ((bits >> 9).to(torch.float32) + 0.5) * _UNIFORM_SCALE
    return -torch.log(-torch.log(u))


def key_tensor(keys: Sequence[SampleKey], device: Any) -> Any:
    """``[len(keys), 2]`` int64 tensor of the keys' words."""
    import torch

    return torch.tensor([[k.k0, k.k1] for k in keys], dtype=torch.int64, device=device)


def nucleus_masks(probs: Any, top_p: float, slack: float = 0.0) -> tuple[Any, Any]:
    """The nucleus at ``top_p - slack`` and at ``top_p + slack``, as boolean masks like ``probs``.

    A token is in the nucleus at level ``p`` when the mass of the tokens
    ranked before it (most probable first, ties by token id) is below ``p``;
    the most probable token always is. With ``slack = 0`` both masks are the
    exact nucleus that sampling uses.
    """
    import torch

    if top_p >= 1.0:
        everything = torch.ones_like(probs, dtype=torch.bool)
        return everything, everything
    ordered, order = probs.sort(dim=-1, descending=True, stable=True)
    before = ordered.cumsum(dim=-1) - ordered
    first = torch.zeros_like(before, dtype=torch.bool)
    first[..., 0] = True
    strict = (before < top_p - slack) | first
    loose = (before < top_p + slack) | first
    return (
        torch.zeros_like(strict).scatter(-1, order, strict),
        torch.zeros_like(loose).scatter(-1, order, loose),
    )


def perturbed_scores(logits: Any, noise: Any, temperature: float, top_p: float) -> Any:
    """``logits / T + g`` inside the nucleus and ``-inf`` outside; its argmax is the sample.

    At ``T = 0`` the logits are returned as they are (greedy decoding).
    """

    if temperature == 0.0:
        return logits
    scaled = logits.float() / temperature
    scores = scaled + noise
    if top_p < 1.0:
        keep, _ = nucleus_masks(scaled.softmax(dim=-1), top_p)
        scores = scores.masked_fill(~keep, float("-inf"))
    return scores
