"""The transformers backend: samples fixed by their keys, log-probabilities the model's."""

from __future__ import annotations

from pathlib import Path

import pytest

from worldgym.core.schemas import Sampling
from worldgym.policy import PolicyError, load_policy
from worldgym.policy.gumbel import SampleKey, seeded_keys
from worldgym.policy.hf import TransformersPolicy
from worldgym.policy.tiny import build_tokenizer

pytestmark = pytest.mark.ml

PROMPTS = [
    [{"role": "user", "content": "What is 2+3?"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Add 17 and 5"}],
    [{"role": "user", "content": "x"}],
]


def sampling(**kw: float | int) -> Sampling:
    base: dict[str, float | int] = {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 24}
    base.update(kw)
    return Sampling.model_validate(base)


def test_generate_returns_n_aligned_completions_per_prompt(tiny: TransformersPolicy) -> None:
    groups = tiny.generate(PROMPTS, n=3, sampling=sampling())
    assert [len(g) for g in groups] == [3, 3, 3]
    for group in groups:
        for c in group:
            assert 1 <= len(c.tokens) <= 24
            assert len(c.logprobs) == len(c.tokens)
            assert all(lp <= 0.0 for lp in c.logprobs)
            assert c.text == tiny.decode(c.tokens)
            eos_at_end = c.tokens[-1] == tiny.eos_token_id
            assert c.finish_reason == ("stop" if eos_at_end else "length")
            assert tiny.eos_token_id not in c.tokens[:-1]


def test_logprobs_are_the_models_own(tiny: TransformersPolicy) -> None:
    """What generation records equals a teacher-forced forward pass over prompt + tokens."""
    for prompt, group in zip(
        PROMPTS, tiny.generate(PROMPTS, n=2, sampling=sampling()), strict=True
    ):
        for c in group:
            recomputed = tiny.score([(prompt, c.tokens)])[0]
            assert max(abs(a - b) for a, b in zip(recomputed, c.logprobs, strict=True)) < 1e-4


def test_the_key_fixes_the_sample_whatever_the_batch(tiny: TransformersPolicy) -> None:
    """A sample depends on its key only: not on its batch-mates, the batch size or the order."""
    keys = seeded_keys(11, len(PROMPTS), 2)
    batched = tiny.generate(PROMPTS, n=2, sampling=sampling(), keys=keys)
    for i, prompt in enumerate(PROMPTS):
        alone = tiny.generate([prompt], n=2, sampling=sampling(), keys=[keys[i][::-1]])[0]
        assert [c.tokens for c in alone] == [c.tokens for c in batched[i]][::-1]
    other = tiny.generate(PROMPTS, n=2, sampling=sampling(), keys=seeded_keys(12, 3, 2))
    assert [[c.tokens for c in g] for g in other] != [[c.tokens for c in g] for g in batched]
    task_seed = bytes(range(32))
    assert SampleKey.derive(task_seed, 0) != SampleKey.derive(task_seed, 1)


def test_greedy_is_argmax_and_left_padding_changes_nothing(tiny: TransformersPolicy) -> None:
    """At temperature 0 a prompt gives the same tokens alone and in a padded batch: the arg-max."""
    greedy = sampling(temperature=0.0, max_new_tokens=16)
    batched = tiny.generate(PROMPTS, n=1, sampling=greedy)
    for prompt, (c,) in zip(PROMPTS, batched, strict=True):
        (alone,) = tiny.generate([prompt], n=1, sampling=greedy)[0]
        assert alone.tokens == c.tokens
        logits = next(tiny.teacher_forced([(prompt, c.tokens)]))
        assert logits.argmax(dim=-1).tolist() == c.tokens


def test_token_budget_is_honoured(tiny: TransformersPolicy) -> None:
    for group in tiny.generate(PROMPTS, n=2, sampling=sampling(max_new_tokens=3)):
        assert all(len(c.tokens) <= 3 for c in group)


def test_top_p_keeps_every_token_in_the_nucleus(tiny: TransformersPolicy) -> None:
    import torch

    from worldgym.policy.gumbel import nucleus_masks

    nucleus = sampling(temperature=0.8, top_p=0.5)
    for prompt, group in zip(PROMPTS, tiny.generate(PROMPTS, n=2, sampling=nucleus), strict=True):
        for c in group:
            logits = next(tiny.teacher_forced([(prompt, c.tokens)]))
            keep, _ = nucleus_masks((logits / 0.8).softmax(dim=-1), 0.5)
            assert bool(keep.gather(-1, torch.tensor(c.tokens).unsqueeze(-1)).all())


def test_tokenizer_round_trips_any_text() -> None:
    tok = build_tokenizer()
    text = "héllo <answer>42</answer> ∑ 😀"
    assert tok.decode(tok.encode(text)) == text  # type: ignore[attr-defined]


def test_bad_inputs_are_clear_errors(tiny: TransformersPolicy, tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not a model directory"):
        TransformersPolicy(tmp_path)
    with pytest.raises(PolicyError, match="outside the model's vocabulary"):
        tiny.score([(PROMPTS[0], [10**6])])[0]
    with pytest.raises(PolicyError, match="at least 1"):
        tiny.generate(PROMPTS, n=0, sampling=sampling())
    with pytest.raises(PolicyError, match="sample keys"):
        tiny.generate(PROMPTS, n=2, sampling=sampling(), keys=seeded_keys(1, 3, 1))
    with pytest.raises(PolicyError, match="base-url"):
        load_policy("openai", tmp_path)


def test_scoring_a_batch_is_scoring_each_item(tiny: TransformersPolicy) -> None:
    groups = tiny.generate(PROMPTS, n=2, sampling=sampling())
    items = [(p, c.tokens) for p, g in zip(PROMPTS, groups, strict=True) for c in g]
    items.append((PROMPTS[0], []))  # nothing to score
    together = tiny.score(items)
    assert together[-1] == []
    for item, scored in zip(items, together, strict=True):
        alone = tiny.score([item])[0]
        assert len(alone) == len(item[1])
        assert max((abs(a - b) for a, b in zip(alone, scored, strict=True)), default=0) < 1e-4


def test_every_backend_is_a_policy(tiny: TransformersPolicy) -> None:
    from worldgym.policy import Policy
    from worldgym.policy.openai_backend import OpenAIPolicy
    from worldgym.policy.vllm_backend import VllmPolicy

    assert isinstance(tiny, Policy)
    for backend in (OpenAIPolicy, VllmPolicy):  # structurally: both methods, same names
        assert callable(getattr(backend, "generate", None))
        assert callable(getattr(backend, "score", None))
