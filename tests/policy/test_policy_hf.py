"""The transformers backend: sampling settings honoured, seeded, log-probabilities the model's."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.schemas import Sampling
from policy import PolicyError, load_policy
from policy.hf import TransformersPolicy
from policy.tiny import build_tokenizer

pytestmark = pytest.mark.ml

PROMPTS = [
    [{"role": "user", "content": "What is 2+3?"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Add 17 and 5"}],
    [{"role": "user", "content": "x"}],
]


def sampling(**kw: float | int) -> Sampling:
    base: dict[str, float | int] = {
        "temperature": 1.0,
        "top_p": 1.0,
        "max_new_tokens": 24,
        "seed": 7,
    }
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
            recomputed = tiny.score(prompt, c.tokens)
            assert max(abs(a - b) for a, b in zip(recomputed, c.logprobs, strict=True)) < 1e-4


def test_same_seed_same_completions_other_seed_others(tiny: TransformersPolicy) -> None:
    first = tiny.generate(PROMPTS, n=2, sampling=sampling(seed=11))
    again = tiny.generate(PROMPTS, n=2, sampling=sampling(seed=11))
    other = tiny.generate(PROMPTS, n=2, sampling=sampling(seed=12))
    tokens = [[c.tokens for c in g] for g in first]
    assert tokens == [[c.tokens for c in g] for g in again]
    assert tokens != [[c.tokens for c in g] for g in other]


def test_greedy_is_argmax_and_left_padding_changes_nothing(tiny: TransformersPolicy) -> None:
    """At temperature 0 a prompt gives the same tokens alone and in a padded batch."""
    greedy = sampling(temperature=0.0, max_new_tokens=16)
    batched = tiny.generate(PROMPTS, n=1, sampling=greedy)
    for prompt, (c,) in zip(PROMPTS, batched, strict=True):
        (alone,) = tiny.generate([prompt], n=1, sampling=greedy)[0]
        assert alone.tokens == c.tokens
        stats = tiny.stats(prompt, c.tokens, greedy)
        assert all(abs(t - lp) < 1e-4 for t, lp in zip(stats.top, stats.logprobs, strict=True))


def test_token_budget_is_honoured(tiny: TransformersPolicy) -> None:
    for group in tiny.generate(PROMPTS, n=2, sampling=sampling(max_new_tokens=3)):
        assert all(len(c.tokens) <= 3 for c in group)


def test_top_p_keeps_every_token_in_the_nucleus(tiny: TransformersPolicy) -> None:
    nucleus = sampling(temperature=0.8, top_p=0.5)
    for prompt, group in zip(PROMPTS, tiny.generate(PROMPTS, n=2, sampling=nucleus), strict=True):
        for c in group:
            assert all(tiny.stats(prompt, c.tokens, nucleus).in_nucleus)


def test_tokenizer_round_trips_any_text() -> None:
    tok = build_tokenizer()
    text = "héllo <answer>42</answer> ∑ 😀"
    assert tok.decode(tok.encode(text)) == text  # type: ignore[attr-defined]


def test_bad_inputs_are_clear_errors(tiny: TransformersPolicy, tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not a model directory"):
        TransformersPolicy(tmp_path)
    with pytest.raises(PolicyError, match="outside the model's vocabulary"):
        tiny.score(PROMPTS[0], [10**6])
    with pytest.raises(PolicyError, match="at least 1"):
        tiny.generate(PROMPTS, n=0, sampling=sampling())
    with pytest.raises(PolicyError, match="base-url"):
        load_policy("openai", tmp_path)
