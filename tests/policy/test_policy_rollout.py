"""Proof of rollout: the honest sample passes; every other completion fails at a named token."""

from __future__ import annotations

import pytest

from worldgym.core.schemas import Sampling
from worldgym.policy.gumbel import SampleKey, seeded_keys
from worldgym.policy.hf import TransformersPolicy
from worldgym.policy.rollout import (
    Tolerances,
    TraceToCheck,
    check_rollout,
    check_rollouts,
    verify_logits,
)

pytestmark = pytest.mark.ml

PROMPTS = [[{"role": "user", "content": f"What is {i} + {i + 3}?"}] for i in range(4)]
SETTINGS = [
    Sampling(temperature=1.0, top_p=1.0, max_new_tokens=40),
    Sampling(temperature=0.7, top_p=0.9, max_new_tokens=40),
    Sampling(temperature=0.0, top_p=1.0, max_new_tokens=40),
]
KEYS = seeded_keys(3, len(PROMPTS), 2)


@pytest.mark.parametrize("settings", SETTINGS, ids=["t1", "t0.7-p0.9", "greedy"])
def test_honest_samples_pass(tiny: TransformersPolicy, settings: Sampling) -> None:
    groups = tiny.generate(PROMPTS, n=2, sampling=settings, keys=KEYS)
    traces = [
        TraceToCheck(p, c.tokens, c.logprobs, c.text, k, canaries=(0, len(c.tokens) - 1))
        for p, g, ks in zip(PROMPTS, groups, KEYS, strict=True)
        for c, k in zip(g, ks, strict=True)
    ]
    for verdict in check_rollouts(tiny, traces, settings):
        assert verdict.ok, verdict.reason
        assert verdict.max_abs_diff < 1e-3
        assert verdict.worst_gap < 1e-3
        assert len(verdict.canaries) == 2


def test_the_same_completion_under_another_key_fails(tiny: TransformersPolicy) -> None:
    """Best-of-n and reuse: a genuine sample of the model is only honest for its own key."""
    settings = SETTINGS[0]
    (c,) = tiny.generate(PROMPTS[:1], n=1, sampling=settings, keys=[KEYS[0][:1]])[0]
    verdict = check_rollout(tiny, PROMPTS[0], c.tokens, c.logprobs, c.text, settings, KEYS[0][1])
    assert not verdict.ok
    assert "not the Gumbel-max choice" in verdict.reason


def test_another_models_samples_fail_even_with_our_logprobs(
    tiny: TransformersPolicy, other: TransformersPolicy
) -> None:
    settings = SETTINGS[0]
    groups = other.generate(PROMPTS, n=1, sampling=settings, keys=[ks[:1] for ks in KEYS])
    for prompt, (c,), keys in zip(PROMPTS, groups, KEYS, strict=True):
        relabelled = tiny.score([(prompt, c.tokens)])[0]
        verdict = check_rollout(tiny, prompt, c.tokens, relabelled, c.text, settings, keys[0])
        assert not verdict.ok
        assert verdict.position is not None


def test_greedy_declared_as_temperature_one_fails(tiny: TransformersPolicy) -> None:
    greedy, declared = SETTINGS[2], SETTINGS[0]
    caught = 0
    for prompt, (c,), keys in zip(
        PROMPTS, tiny.generate(PROMPTS, n=1, sampling=greedy), KEYS, strict=True
    ):
        verdict = check_rollout(tiny, prompt, c.tokens, c.logprobs, c.text, declared, keys[0])
        caught += not verdict.ok
    assert caught == len(PROMPTS)


def test_hand_written_answer_with_true_logprobs_fails(tiny: TransformersPolicy) -> None:
    settings = SETTINGS[0]
    tokens = [*tiny.tokenizer.encode("<answer>7</answer>"), tiny.eos_token_id]
    text = tiny.decode(tokens)
    logprobs = tiny.score([(PROMPTS[0], tokens)])[0]  # the model's true teacher-forced numbers
    verdict = check_rollout(tiny, PROMPTS[0], tokens, logprobs, text, settings, KEYS[0][0])
    assert not verdict.ok
    assert verdict.position == 0
    assert "Gumbel-max" in verdict.reason


def test_an_edited_token_fails_where_it_was_edited(tiny: TransformersPolicy) -> None:
    settings = SETTINGS[0]
    (c,) = tiny.generate(PROMPTS[:1], n=1, sampling=settings, keys=[KEYS[0][:1]])[0]
    tokens = list(c.tokens)
    position = len(tokens) // 2
    tokens[position] = (tokens[position] + 1) % 256
    logprobs = tiny.score([(PROMPTS[0], tokens)])[0]
    text = tiny.decode(tokens)
    verdict = check_rollout(tiny, PROMPTS[0], tokens, logprobs, text, settings, KEYS[0][0])
    assert not verdict.ok
    assert verdict.position == position


def test_a_near_tie_within_the_tolerance_passes_and_beyond_it_fails() -> None:
    """Numeric differences between devices are forgiven up to epsilon, in logit units."""
    import torch

    from worldgym.policy.gumbel import gumbel_torch, key_tensor

    key = SampleKey.derive(b"\x05" * 32, 0)
    vocab = 8
    noise = gumbel_torch(key_tensor([key], "cpu"), torch.zeros(1, dtype=torch.int64), vocab)[0]
    settings = Sampling(temperature=1.0, top_p=1.0, max_new_tokens=1)
    order = noise.argsort(descending=True)
    winner, runner = int(order[0]), int(order[1])
    tol = Tolerances(logit_gap=0.2)

    def check(margin: float) -> bool:
        # logits that make `runner` lose to `winner` by exactly `margin`
        logits = torch.zeros(1, vocab)
        logits[0, runner] = float(noise[winner] - noise[runner]) - margin
        lp = float(logits.log_softmax(-1)[0, runner])
        trace = TraceToCheck([], [runner], [lp], "", key)
        return verify_logits(logits, trace, settings, tol).ok

    assert check(0.1)
    assert not check(0.3)


def test_declared_logprobs_must_be_the_models(tiny: TransformersPolicy) -> None:
    """The refinery trusts them as behaviour log-probabilities, so they are checked too."""
    settings = SETTINGS[0]
    key = KEYS[0][0]
    (c,) = tiny.generate(PROMPTS[:1], n=1, sampling=settings, keys=[[key]])[0]
    shifted = [lp - 0.2 for lp in c.logprobs]
    verdict = check_rollout(tiny, PROMPTS[0], c.tokens, shifted, c.text, settings, key)
    assert not verdict.ok
    assert "log-probabilities differ" in verdict.reason


def test_text_and_shape_must_match_the_tokens(tiny: TransformersPolicy) -> None:
    settings = SETTINGS[1]
    key = KEYS[0][0]
    (c,) = tiny.generate(PROMPTS[:1], n=1, sampling=settings, keys=[[key]])[0]
    prompt = PROMPTS[0]

    def verdict(tokens: list[int], logprobs: list[float], text: str) -> str:
        result = check_rollout(tiny, prompt, tokens, logprobs, text, settings, key)
        assert not result.ok
        return result.reason

    assert "not the decoding" in verdict(c.tokens, c.logprobs, c.text + " 42")
    assert "no tokens" in verdict([], [], "")
    short = c.tokens[:5]
    assert "without an end-of-sequence" in verdict(short, c.logprobs[:5], tiny.decode(short))
    early = [*c.tokens[:3], tiny.eos_token_id, *c.tokens[3:6]]
    assert "before the end" in verdict(early, tiny.score([(prompt, early)])[0], tiny.decode(early))
    assert "over the budget" in verdict([1] * 41, [-1.0] * 41, tiny.decode([1] * 41))
    assert "vocabulary" in verdict([10**6], [-1.0], "")
    assert "log-probabilities" in verdict(c.tokens, c.logprobs[:-1], c.text)
