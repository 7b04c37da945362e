"""GRPO: advantages, sampling probabilities and the clipped loss on hand-computed cases;
a real training step on the tiny model (built here) on rollouts it sampled itself."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from worldgym import gym
from worldgym.gym.environments import example_path
from worldgym.refinery.config import GrpoConfig, TrainConfig, parse_config
from worldgym.refinery.errors import TrainConfigError, TrainingError
from worldgym.refinery.grpo import ADVANTAGE_EPS, group_advantages

torch = pytest.importorskip("torch")

# -- advantages ------------------------------------------------------------------------


def test_advantages_are_centred_and_scaled_within_the_group() -> None:
    # mean 0.25; centred 0.75, -0.25 x 3; sample std sqrt((0.5625 + 3 * 0.0625) / 3) = 0.5
    expected = [0.75 / (0.5 + ADVANTAGE_EPS)] + [-0.25 / (0.5 + ADVANTAGE_EPS)] * 3
    assert group_advantages([1.0, 0.0, 0.0, 0.0]) == pytest.approx(expected)
    assert group_advantages([1.0, 0.0, 0.0, 0.0], scale=False) == [0.75, -0.25, -0.25, -0.25]
    assert group_advantages([0.5, 0.5, 0.5]) == [0.0, 0.0, 0.0]
    assert sum(group_advantages([0.01, 0.0, 1.0, 0.3])) == pytest.approx(0.0, abs=1e-12)


# -- sampling probabilities ---------------------------------------------------------------


def test_sampling_logprobs_follow_temperature_and_the_nucleus() -> None:
    from worldgym.refinery.grpo import sampling_logprobs

    logits = torch.tensor([[[2.0, 1.0, 0.0, -1.0]] * 2])  # [B=1, C=2, V=4]
    # T = 0.5: scaled 4, 2, 0, -2. At top-p 0.8 the nucleus is {0} (its mass is 0.865).
    tokens = torch.tensor([[0, 1]])
    got = sampling_logprobs(logits, tokens, 0.5, 0.8)[0].tolist()
    lse01 = math.log(math.exp(4) + math.exp(2))
    # token 1 lies outside: it counts as inside (the set is {0, 1}) so the value stays finite
    assert got == pytest.approx([0.0, 2 - lse01], abs=1e-6)
    # top-p 0.9 takes {0, 1}; top-p 1 and T = 1 is the plain log-softmax
    assert sampling_logprobs(logits, tokens, 0.5, 0.9)[0].tolist() == pytest.approx(
        [4 - lse01, 2 - lse01], abs=1e-6
    )
    plain = torch.log_softmax(logits, dim=-1)[0, [0, 1], [0, 1]].tolist()
    assert sampling_logprobs(logits, tokens, 1.0, 1.0)[0].tolist() == pytest.approx(plain)
    with pytest.raises(ValueError, match="greedy"):
        sampling_logprobs(logits, tokens, 0.0, 1.0)


# -- the loss -------------------------------------------------------------------------------


def _case(ratios: list[list[float]], advantages: list[float]) -> tuple[Any, ...]:
    behaviour = torch.log(torch.tensor([[0.5, 0.5], [0.4, 0.3]]))
    logp = (behaviour + torch.log(torch.tensor(ratios))).requires_grad_(True)
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    return logp, behaviour, torch.tensor(advantages), mask


def test_the_loss_clips_in_the_advantages_direction_only() -> None:
    from worldgym.refinery.grpo import grpo_loss

    # A = +1: ratio 1.5 is above 1 + 0.28, clipped (no gradient); ratio 1.1 is inside.
    # A = -0.5: ratio 0.5 is below 1 - 0.2, clipped (no gradient). The 4th token is padding.
    logp, behaviour, adv, mask = _case([[1.5, 1.1], [0.5, 9.0]], [1.0, -0.5])
    loss, stats = grpo_loss(logp, behaviour, adv, mask, GrpoConfig())
    assert loss.item() == pytest.approx((-1.28 - 1.1 + 0.8 * 0.5) / 3)
    loss.backward()
    assert logp.grad is not None
    assert logp.grad.flatten().tolist() == pytest.approx([0.0, -1.1 / 3, 0.0, 0.0])
    assert stats.clipped == pytest.approx(2 / 3)
    assert stats.ratio == pytest.approx((1.5 + 1.1 + 0.5) / 3)


def test_a_ratio_that_moved_against_the_advantage_still_pulls_and_delta_caps_it() -> None:
    from worldgym.refinery.grpo import grpo_loss

    # A = -0.5 with ratio 5: the unclipped branch is the minimum, so it keeps pulling...
    logp, behaviour, adv, mask = _case([[1.0, 1.0], [5.0, 1.0]], [0.0, -0.5])
    loss, _ = grpo_loss(logp, behaviour, adv, mask, GrpoConfig(delta=None))
    assert loss.item() == pytest.approx(2.5 / 3)
    loss.backward()
    assert logp.grad is not None
    assert logp.grad[1, 0].item() == pytest.approx(2.5 / 3)  # d(-r A)/d logp = -r A
    # ...unless delta caps the ratio: then -min(4 * A, 1.28 * A) = 2, and no gradient.
    logp, behaviour, adv, mask = _case([[1.0, 1.0], [5.0, 1.0]], [0.0, -0.5])
    loss, _ = grpo_loss(logp, behaviour, adv, mask, GrpoConfig(delta=4.0))
    assert loss.item() == pytest.approx(2.0 / 3)
    loss.backward()
    assert logp.grad is not None
    assert logp.grad[1, 0].item() == 0.0


def test_the_kl_term_and_the_step_normalizer() -> None:
    from worldgym.refinery.grpo import grpo_loss

    logp, behaviour, adv, mask = _case([[1.0, 1.0], [1.0, 1.0]], [0.0, 0.0])
    ref = logp.detach() + 0.1  # k3: exp(0.1) - 0.1 - 1 per token
    config = GrpoConfig(kl_beta=0.5)
    loss, stats = grpo_loss(logp, behaviour, adv, mask, config, ref_logp=ref, normalizer=6.0)
    k3 = math.exp(0.1) - 0.1 - 1
    assert stats.kl == pytest.approx(k3, rel=1e-4)
    assert loss.item() == pytest.approx(0.5 * k3 * 3 / 6, rel=1e-4)
    with pytest.raises(ValueError, match="ref_logp"):
        grpo_loss(logp, behaviour, adv, mask, config)


def test_grpo_config_errors_say_what_to_change() -> None:
    with pytest.raises(TrainConfigError, match=r"delta \(1.1\) must be above 1 \+ clip_high"):
        parse_config(GrpoConfig, {"delta": 1.1})
    with pytest.raises(TrainConfigError, match="clip_low"):
        parse_config(GrpoConfig, {"clip_low": 1.5})
    assert parse_config(GrpoConfig, {"delta": None}).delta is None


# -- training on the tiny model ----------------------------------------------------------------

SMALL = TrainConfig(epochs=1, batch_size=16, max_length=128, learning_rate=1e-2)


@pytest.fixture(scope="module")
def env() -> gym.Environment:
    return gym.load_environment(example_path("sums"))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from worldgym.policy.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "base", seed=5)


@pytest.fixture(scope="module")
def rows(base: Path, env: gym.Environment) -> list[dict[str, Any]]:
    """Four groups of four samples the base model drew; scores alternate so each group teaches."""
    from worldgym.core.schemas import Sampling
    from worldgym.policy.hf import TransformersPolicy

    tasks = env.tasks(bytes(32), 1, 1, "0x" + "11" * 20, range(4))
    prompts = [env.prompt(t) for t in tasks]
    sampling = Sampling(temperature=1.0, top_p=1.0, max_new_tokens=12)
    groups = TransformersPolicy(base).generate(prompts, n=4, sampling=sampling, seed=1)
    return [
        {
            "messages": [*prompt, {"role": "assistant", "content": c.text}],
            "group": f"0:0:{task}",
            "score": float(j % 2),
            "tokens": c.tokens,
            "logprobs": c.logprobs,
            "sampling": {"temperature": 1.0, "top_p": 1.0},
            "model": {"id": 1, "digest": "base"},
        }
        for task, (prompt, group) in enumerate(zip(prompts, groups, strict=True))
        for j, c in enumerate(group)
    ]


def _weights(model_dir: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


@pytest.mark.ml
def test_a_grpo_step_changes_every_parameter_from_an_exact_on_policy_start(
    base: Path, rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    from worldgym.policy.hf import TransformersPolicy
    from worldgym.refinery.train_grpo import train_grpo

    logs: list[dict[str, float]] = []
    result = train_grpo(base, rows, tmp_path / "out", SMALL, GrpoConfig(), on_log=logs.append)
    assert result.steps == 1
    assert logs[0]["ratio"] == pytest.approx(1.0, abs=1e-4), "recorded = recomputed log-probs"
    assert logs[0]["clipped"] == 0.0
    assert result.details["behaviour_recomputed"] == 0
    before, after = _weights(base), _weights(tmp_path / "out")
    assert before.keys() == after.keys()
    assert all(not before[name].equal(after[name]) for name in before)
    policy = TransformersPolicy(base)
    prompts = sum(len(policy.prompt_ids(r["messages"][:-1])) for r in rows)
    assert result.tokens == prompts + sum(len(r["tokens"]) for r in rows)


@pytest.mark.ml
def test_tempered_nucleus_rollouts_are_rescored_with_the_model_that_sampled_them(
    base: Path, rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    from worldgym.refinery.train_grpo import train_grpo

    # Pretend the samples were drawn at T = 0.7, top-p 0.9 (the recorded raw values stay
    # right: they are T = 1 log-softmax): the behaviour probabilities are recomputed with
    # the sampling model, here the parent itself, so the first ratio is exactly 1.
    tempered = [{**r, "sampling": {"temperature": 0.7, "top_p": 0.9}} for r in rows]
    logs: list[dict[str, float]] = []
    result = train_grpo(
        base, tempered, tmp_path / "out", SMALL, GrpoConfig(),
        behaviour_models={"base": base}, on_log=logs.append,
    )  # fmt: skip
    assert logs[0]["ratio"] == pytest.approx(1.0, abs=1e-4)
    assert result.details["behaviour_recomputed"] == len(rows)
    assert result.details["behaviour_mismatches"] == 0
    with pytest.raises(TrainConfigError, match="pass its checkpoint in behaviour_models"):
        train_grpo(base, tempered, tmp_path / "again", SMALL, GrpoConfig())


@pytest.mark.ml
def test_grpo_with_lora_and_kl_saves_a_merged_full_model(
    base: Path, rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    pytest.importorskip("peft")
    from worldgym.policy.hf import TransformersPolicy
    from worldgym.refinery.train_grpo import train_grpo

    config = SMALL.model_copy(update={"lora": True, "lora_r": 4, "lora_alpha": 8, "epochs": 2})
    logs: list[dict[str, float]] = []
    train_grpo(base, rows, tmp_path / "lora", config, GrpoConfig(kl_beta=0.1), on_log=logs.append)
    assert logs[0]["kl"] == pytest.approx(0.0, abs=1e-6)  # the reference is the parent
    assert logs[-1]["kl"] > 0.0
    before, after = _weights(base), _weights(tmp_path / "lora")
    assert before.keys() == after.keys(), "no adapter tensors: the adapter is merged"
    moved = {name for name in before if not before[name].equal(after[name])}
    assert moved
    assert all(
        name.endswith(("q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"))
        for name in moved
    )
    TransformersPolicy(tmp_path / "lora")


@pytest.mark.ml
def test_rows_that_are_not_grpo_rows_are_refused(base: Path, tmp_path: Path) -> None:
    from worldgym.refinery.train_grpo import train_grpo

    with pytest.raises(TrainingError, match="no rollouts"):
        train_grpo(base, [], tmp_path / "x", SMALL, GrpoConfig())
    sft_row = {
        "messages": [{"role": "user", "content": "1+1"}, {"role": "assistant", "content": "2"}]
    }
    with pytest.raises(TrainingError, match="is not a GRPO row"):
        train_grpo(base, [sft_row], tmp_path / "x", SMALL, GrpoConfig())


# -- choosing the algorithm ----------------------------------------------------------------------


def test_the_flag_overrides_the_jobs_algorithm_and_a_wrong_one_says_what_to_use(
    tmp_path: Path,
) -> None:
    from worldgym.cli.refinery import load_job
    from worldgym.core.errors import UsageError

    job = tmp_path / "job.toml"
    job.write_text('algorithm = "grpo"\n[grpo]\nclip_high = 0.5\n[train]\nlearning_rate = 3e-4\n')
    config = load_job(job)
    assert (config.algorithm, config.grpo.clip_high, config.train.learning_rate) == (
        "grpo", 0.5, 3e-4,
    )  # fmt: skip
    assert load_job(job, "sft").algorithm == "sft"
    assert load_job(None).algorithm == "sft"
    assert load_job(None, "grpo").algorithm == "grpo"
    with pytest.raises(UsageError, match="use one of sft, grpo"):
        load_job(None, "ppo")
    job.write_text('algorithm = "dpo"\n')
    with pytest.raises(TrainConfigError, match="algorithm"):
        load_job(job)
