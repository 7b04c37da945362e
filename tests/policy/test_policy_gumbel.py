"""The chain's noise: the same bits everywhere, a faithful sampler, the nucleus as specified."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from worldgym.policy.gumbel import (
    SampleKey,
    gumbel_numpy,
    gumbel_torch,
    key_tensor,
    mix32,
    nucleus_masks,
    perturbed_scores,
    seeded_keys,
)

torch = pytest.importorskip("torch")


def _mix32_reference(x: int) -> int:
    """lowbias32 written with Python's unbounded ints, as in Wellons' C (no split products)."""
    x ^= x >> 16
    x = (x * 0x7FEB352D) % 2**32
    x ^= x >> 15
    x = (x * 0x846CA68B) % 2**32
    return x ^ (x >> 16)


def test_mix32_equals_the_reference_on_edge_and_random_values() -> None:
    rng = np.random.default_rng(0)
    values = [0, 1, 2**31 - 1, 2**31, 2**32 - 1, *rng.integers(0, 2**32, 2000).tolist()]
    expected = [_mix32_reference(v) for v in values]
    assert [mix32(v) for v in values] == expected
    assert mix32(np.array(values, dtype=np.int64)).tolist() == expected
    assert mix32(torch.tensor(values, dtype=torch.int64)).tolist() == expected


def test_numpy_and_torch_give_the_same_noise() -> None:
    key = SampleKey.derive(bytes(range(32)), 3)
    positions = [0, 1, 7, 4095]
    reference = gumbel_numpy(key, positions, 300)
    computed = gumbel_torch(
        key_tensor([key] * len(positions), "cpu"), torch.tensor(positions), 300
    ).numpy()
    assert np.abs(reference - computed).max() < 1e-5  # float32 logs vs float64: the last bits


def test_golden_noise_vector() -> None:
    """The spec's bits, pinned: every implementation gives these for this key."""
    key = SampleKey.derive(b"\x00" * 32, 0)
    assert (key.k0, key.k1) == (3944299409, 3103173863)
    expected = [
        [1.831206, -0.849393, -0.536982, -0.599196],
        [-0.012318, 0.900214, 0.218743, -0.075603],
    ]
    assert np.abs(gumbel_numpy(key, [0, 5], 4) - np.array(expected)).max() < 1e-6
    # ...and the reference mixer written independently agrees with them
    for row_t, row in zip((0, 5), expected, strict=True):
        seed = _mix32_reference(
            _mix32_reference(key.k0 ^ _mix32_reference(row_t ^ 0x9E3779B9)) ^ key.k1
        )
        for v, value in enumerate(row):
            u = ((_mix32_reference(seed ^ _mix32_reference(v ^ 0x85EBCA6B)) >> 9) + 0.5) / 2**23
            assert abs(-math.log(-math.log(u)) - value) < 1e-6


def test_noise_is_standard_gumbel() -> None:
    g = gumbel_numpy(SampleKey.derive(b"\x01" * 32, 0), list(range(400)), 500).ravel()
    assert abs(g.mean() - 0.5772) < 0.01  # Euler-Mascheroni
    assert abs(g.var() - math.pi**2 / 6) < 0.03


@pytest.mark.parametrize(("temperature", "top_p"), [(1.0, 1.0), (0.7, 1.0), (1.0, 0.8)])
def test_gumbel_max_samples_the_top_p_distribution(temperature: float, top_p: float) -> None:
    logits = torch.tensor([[2.0, 1.0, 0.5, 0.0, -1.0, -3.0]])
    probs = (logits / temperature).softmax(dim=-1)[0]
    keep, _ = nucleus_masks(probs.unsqueeze(0), top_p)
    target = torch.where(keep[0], probs, torch.zeros_like(probs))
    target = target / target.sum()
    draws = 20_000
    keys = [k for group in seeded_keys(5, draws, 1) for k in group]
    noise = gumbel_torch(key_tensor(keys, "cpu"), torch.zeros(draws, dtype=torch.int64), 6)
    picks = perturbed_scores(logits.expand(draws, 6), noise, temperature, top_p).argmax(dim=-1)
    counts = Counter(picks.tolist())
    for token in range(6):
        expected = float(target[token])
        observed = counts[token] / draws
        assert abs(observed - expected) < 4 * math.sqrt(expected * (1 - expected) / draws) + 1e-9


def test_nucleus_is_the_smallest_top_set_reaching_p() -> None:
    probs = torch.tensor([[0.1, 0.4, 0.3, 0.2]])
    strict, loose = nucleus_masks(probs, 0.7)
    assert strict.tolist() == [[False, True, True, False]]  # 0.4 + 0.3 reaches 0.7
    strict, loose = nucleus_masks(probs, 0.7, slack=0.05)
    assert strict.tolist() == [[False, True, True, False]]
    assert loose.tolist() == [[False, True, True, True]]  # mass before 0.2 is 0.7 < 0.75
    ties = torch.tensor([[0.25, 0.25, 0.25, 0.25]])
    assert nucleus_masks(ties, 0.5)[0].tolist() == [[True, True, False, False]]  # by token id
    assert nucleus_masks(probs, 0.01)[0].tolist() == [[False, True, False, False]]  # top always


def test_keys_are_checked() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SampleKey.derive(b"short", 0)
    with pytest.raises(ValueError, match="32 bits"):
        SampleKey.derive(b"\x00" * 32, 2**32)
