"""The vLLM processor's core on a CPU: vLLM's batch updates replayed, each row its own sample."""

from __future__ import annotations

from typing import Any

import pytest

from worldgym.policy.gumbel import SampleKey, gumbel_torch, key_tensor, perturbed_scores
from worldgym.policy.vllm_gumbel import GumbelRows, request_args

torch = pytest.importorskip("torch")

VOCAB = 12
A, B, C = (SampleKey.derive(bytes([i]) * 32, 0) for i in (1, 2, 3))


def _expected(logits: Any, key: SampleKey, position: int, t: float, p: float) -> Any:
    noise = gumbel_torch(key_tensor([key], "cpu"), torch.tensor([position]), VOCAB)
    return perturbed_scores(logits.unsqueeze(0), noise, t, p)[0]


def test_rows_follow_adds_moves_swaps_and_removals() -> None:
    rows = GumbelRows()
    out_a, out_b, out_c = [5], list[int](), [1, 2, 3]
    rows.add(0, request_args(A, 1.0, 1.0), out_a)
    rows.add(1, request_args(B, 0.7, 0.9), out_b)
    rows.add(2, None, [])  # a request that is not WorldGym's: untouched
    rows.add(3, request_args(C, 1.0, 0.5), out_c)
    logits = torch.randn(4, VOCAB, generator=torch.Generator().manual_seed(0))
    applied = rows.apply(logits.clone())
    assert torch.equal(applied[0], _expected(logits[0], A, 1, 1.0, 1.0))
    assert torch.equal(applied[1], _expected(logits[1], B, 0, 0.7, 0.9))
    assert torch.equal(applied[2], logits[2])
    assert torch.equal(applied[3], _expected(logits[3], C, 3, 1.0, 0.5))

    rows.remove(0)
    rows.move(3, 0, swap=False)  # C compacted into row 0
    rows.move(0, 1, swap=True)  # C <-> B
    out_b.append(7)  # B generated a token: its position advances through the live list
    applied = rows.apply(logits.clone())
    assert torch.equal(applied[1], _expected(logits[1], C, 3, 1.0, 0.5))
    assert torch.equal(applied[0], _expected(logits[0], B, 1, 0.7, 0.9))
    assert set(rows.rows) == {0, 1}


def test_greedy_rows_are_left_alone_and_bad_arguments_refused() -> None:
    rows = GumbelRows()
    rows.add(0, request_args(A, 0.0, 1.0), [])
    logits = torch.randn(1, VOCAB)
    assert torch.equal(rows.apply(logits.clone()), logits)
    with pytest.raises(ValueError, match="malformed"):
        GumbelRows.validate({"worldgym_k0": 1})
    with pytest.raises(ValueError, match="32-bit"):
        GumbelRows.validate({**request_args(A, 1.0, 1.0), "worldgym_k0": 2**40})
    with pytest.raises(ValueError, match="out of range"):
        GumbelRows.validate(request_args(A, 1.0, 0.0))
    GumbelRows.validate(None)  # requests without WorldGym arguments are vLLM's business


def test_the_vllm_class_needs_vllm() -> None:
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here: the class is built for real")
    import worldgym.policy.vllm_gumbel as module

    with pytest.raises(ImportError):
        module.GumbelMaxLogitsProcessor  # noqa: B018 - the attribute access builds the class
