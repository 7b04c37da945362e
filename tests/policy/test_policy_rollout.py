"""Proof of rollout: honest samples pass; edited, hand-written and other-model traces fail."""

from __future__ import annotations

import pytest

from client.schemas import Sampling
from policy.hf import TransformersPolicy
from policy.rollout import check_rollout

pytestmark = pytest.mark.ml

PROMPTS = [[{"role": "user", "content": f"What is {i} + {i + 3}?"}] for i in range(4)]
SETTINGS = [
    Sampling(temperature=1.0, top_p=1.0, max_new_tokens=40, seed=3),
    Sampling(temperature=0.7, top_p=0.9, max_new_tokens=40, seed=4),
    Sampling(temperature=0.0, top_p=1.0, max_new_tokens=40, seed=5),
]


@pytest.mark.parametrize("settings", SETTINGS, ids=["t1", "t0.7-p0.9", "greedy"])
def test_honest_samples_pass(tiny: TransformersPolicy, settings: Sampling) -> None:
    for prompt, group in zip(PROMPTS, tiny.generate(PROMPTS, n=2, sampling=settings), strict=True):
        for c in group:
            verdict = check_rollout(tiny, prompt, c.tokens, c.logprobs, c.text, settings)
            assert verdict.ok, verdict.reason
            assert verdict.max_abs_diff < 1e-3


def test_another_models_samples_fail(tiny: TransformersPolicy, other: TransformersPolicy) -> None:
    settings = SETTINGS[0]
    for prompt, (c,) in zip(PROMPTS, other.generate(PROMPTS, n=1, sampling=settings), strict=True):
        as_declared = check_rollout(tiny, prompt, c.tokens, c.logprobs, c.text, settings)
        assert not as_declared.ok
        assert "log-probabilities differ" in as_declared.reason
        # Even with the declared model's own numbers pasted in, the tokens are too unlikely.
        relabelled = tiny.score(prompt, c.tokens)
        verdict = check_rollout(tiny, prompt, c.tokens, relabelled, c.text, settings)
        assert not verdict.ok
        assert "far less likely" in verdict.reason


def test_hand_written_answer_fails(tiny: TransformersPolicy) -> None:
    settings = SETTINGS[0]
    tokens = [*tiny.tokenizer.encode("<answer>7</answer>"), tiny.eos_token_id]
    text = tiny.decode(tokens)
    verdict = check_rollout(
        tiny, PROMPTS[0], tokens, tiny.score(PROMPTS[0], tokens), text, settings
    )
    assert not verdict.ok
    assert "far less likely" in verdict.reason


def test_edited_tokens_fail(tiny: TransformersPolicy) -> None:
    settings = SETTINGS[0]
    (c,) = tiny.generate(PROMPTS[:1], n=1, sampling=settings)[0]
    tokens = list(c.tokens)
    position = len(tokens) // 2
    tokens[position] = (tokens[position] + 1) % 256
    text = tiny.decode(tokens)
    verdict = check_rollout(tiny, PROMPTS[0], tokens, c.logprobs, text, settings)
    assert not verdict.ok
    assert "log-probabilities differ" in verdict.reason


def test_text_and_shape_must_match_the_tokens(tiny: TransformersPolicy) -> None:
    settings = SETTINGS[1]
    (c,) = tiny.generate(PROMPTS[:1], n=1, sampling=settings)[0]
    prompt = PROMPTS[0]

    def verdict(tokens: list[int], logprobs: list[float], text: str) -> str:
        result = check_rollout(tiny, prompt, tokens, logprobs, text, settings)
        assert not result.ok
        return result.reason

    assert "not the decoding" in verdict(c.tokens, c.logprobs, c.text + " 42")
    assert "no tokens" in verdict([], [], "")
    short = c.tokens[:5]
    assert "without an end-of-sequence" in verdict(short, c.logprobs[:5], tiny.decode(short))
    early = [*c.tokens[:3], tiny.eos_token_id, *c.tokens[3:6]]
    lp = tiny.score(prompt, early)
    assert "before the end" in verdict(early, lp, tiny.decode(early))
    assert "over the declared budget" in verdict([1] * 41, [-1.0] * 41, tiny.decode([1] * 41))
