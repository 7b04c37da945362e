"""Training and evaluation on the tiny model: real TRL, real peft, real reasoning-gym."""

from __future__ import annotations

from math import comb
from pathlib import Path
from typing import Any

import pytest

from worldgym import gym
from worldgym.gym.environments import example_path
from worldgym.refinery.config import EvalConfig, TrainConfig, parse_config
from worldgym.refinery.errors import TrainConfigError, TrainingError
from worldgym.refinery.evaluate import eval_seed, evaluate, held_out_tasks, pass_at_k
from worldgym.refinery.pretrain import answer_text, pretrain_examples, pretrain_tasks

SMALL = TrainConfig(epochs=1, batch_size=8, max_length=128, learning_rate=1e-2)


@pytest.fixture(scope="module")
def env() -> gym.Environment:
    return gym.load_environment(example_path("sums"))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    from worldgym.policy.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "base", seed=3)


def _weights(model_dir: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


# -- config --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"lora": True, "lora_r": 0}, "lora_r is 0; set it to a positive rank"),
        ({"learning_rate": 0.0}, r"learning_rate is 0.0; set it in \(0, 1\]"),
        ({"learning_rate": 3.0}, r"learning_rate is 3.0; set it in \(0, 1\]"),
        ({"max_length": 8}, "max_length is 8; set it to at least 16"),
        ({"lora": True, "lora_dropout": 1.0}, r"lora_dropout is 1.0; set it in \[0, 1\)"),
        ({"epochs": 0}, "epochs: Input should be greater than or equal to 1"),
        ({"learning_rat": 0.1}, "learning_rat: Extra inputs are not permitted"),
    ],
)
def test_train_config_errors_say_what_to_change(values: dict[str, Any], says: str) -> None:
    with pytest.raises(TrainConfigError, match=says):
        parse_config(TrainConfig, values)


def test_eval_config_rejects_k_above_the_samples() -> None:
    with pytest.raises(TrainConfigError, match="raise samples_per_task or drop"):
        parse_config(EvalConfig, {"samples_per_task": 4, "ks": [1, 8]})
    assert parse_config(EvalConfig, {"samples_per_task": 8, "ks": [1, 8]}).ks == (1, 8)


# -- pass@k ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (4, 0, 1, 0.0),
        (4, 1, 1, 0.25),
        (4, 2, 2, 1 - 1 / 6),  # 1 - C(2,2)/C(4,2)
        (5, 2, 3, 1 - 1 / 10),  # 1 - C(3,3)/C(5,3)
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (4, 4, 1, 1.0),
        (4, 3, 2, 1.0),  # fewer than k failures: every draw of 2 has a pass
    ],
)
def test_pass_at_k_matches_hand_computed_values(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)
    assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k), abs=1e-12)


def test_pass_at_k_rejects_impossible_counts() -> None:
    for n, c, k in [(4, 5, 1), (4, 1, 5), (4, 1, 0), (0, 0, 1)]:
        with pytest.raises(TrainConfigError):
            pass_at_k(n, c, k)


# -- task sets --------------------------------------------------------------------------


def test_held_out_tasks_are_fixed_per_key_and_apart_from_training_tasks(
    env: gym.Environment,
) -> None:
    a = held_out_tasks(env, 1, 1, 5, 8)
    assert [t.task_seed for t in a] == [t.task_seed for t in held_out_tasks(env, 1, 1, 5, 8)]
    assert {t.task_seed for t in a}.isdisjoint(t.task_seed for t in held_out_tasks(env, 1, 1, 6, 8))
    assert {t.task_seed for t in a}.isdisjoint(t.task_seed for t in pretrain_tasks(env, 64))
    assert eval_seed("x") != eval_seed(b"y")
    assert len(eval_seed(0)) == 32
    with pytest.raises(TrainConfigError):
        held_out_tasks(env, 1, 1, -1, 8)


def test_pretrain_examples_are_answered_in_the_environments_format(env: gym.Environment) -> None:
    examples = pretrain_examples(env, 16)
    assert len(examples) == 16
    for example, task in zip(examples, pretrain_tasks(env, 16), strict=True):
        reply = example["messages"][-1]
        assert reply == {"role": "assistant", "content": answer_text(env, str(task.answer))}
        assert env.score(task, reply["content"]).value == 1.0


# -- training ----------------------------------------------------------------------------


@pytest.mark.ml
def test_a_training_step_changes_the_parameters_and_saves_a_loadable_model(
    base: Path, env: gym.Environment, tmp_path: Path
) -> None:
    from worldgym.policy.hf import TransformersPolicy
    from worldgym.refinery.train import train_sft

    logs: list[dict[str, float]] = []
    result = train_sft(base, pretrain_examples(env, 16), tmp_path / "out", SMALL, logs.append)
    assert result.steps == 2
    assert result.tokens > 16 * 20
    assert result.train_loss > 0
    assert any("loss" in record for record in logs)
    before, after = _weights(base), _weights(tmp_path / "out")
    assert before.keys() == after.keys()
    changed = [name for name in before if not before[name].equal(after[name])]
    assert len(changed) == len(before), "every trainable tensor should move"
    assert not any(p.name.startswith(".trainer") for p in (tmp_path / "out").iterdir())
    policy = TransformersPolicy(tmp_path / "out")
    assert policy.tokenizer.eos_token == "<|im_end|>"


@pytest.mark.ml
def test_training_is_deterministic_for_a_seed(
    base: Path, env: gym.Environment, tmp_path: Path
) -> None:
    from worldgym.refinery.train import train_sft

    examples = pretrain_examples(env, 8)
    a = train_sft(base, examples, tmp_path / "a", SMALL)
    b = train_sft(base, examples, tmp_path / "b", SMALL)
    assert a.train_loss == b.train_loss
    wa, wb = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert all(wa[name].equal(wb[name]) for name in wa)


@pytest.mark.ml
def test_lora_is_merged_into_a_full_model(base: Path, env: gym.Environment, tmp_path: Path) -> None:
    pytest.importorskip("peft")
    from worldgym.policy.hf import TransformersPolicy
    from worldgym.refinery.train import train_sft

    config = SMALL.model_copy(update={"lora": True, "lora_r": 4, "lora_alpha": 8})
    train_sft(base, pretrain_examples(env, 16), tmp_path / "lora", config)
    before, after = _weights(base), _weights(tmp_path / "lora")
    assert before.keys() == after.keys(), "no adapter tensors: the adapter is merged"
    moved = {name for name in before if not before[name].equal(after[name])}
    assert moved
    assert all(
        name.endswith(("q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"))
        for name in moved
    )
    assert not (tmp_path / "lora" / "adapter_config.json").exists()
    TransformersPolicy(tmp_path / "lora")  # loads as a plain causal LM


@pytest.mark.ml
def test_bad_examples_are_refused_before_training(base: Path, tmp_path: Path) -> None:
    from worldgym.refinery.train import train_sft

    with pytest.raises(TrainingError, match="no examples"):
        train_sft(base, [], tmp_path / "x", SMALL)
    user_only = {"messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": "?"}]}
    with pytest.raises(TrainingError, match="does not end with an assistant message"):
        train_sft(base, [user_only], tmp_path / "x", SMALL)


# -- evaluation ---------------------------------------------------------------------------


@pytest.mark.ml
def test_evaluate_gives_the_same_numbers_for_the_same_model_tasks_and_settings(
    base: Path, env: gym.Environment
) -> None:
    tasks = held_out_tasks(env, 1, 1, "test", 6)
    config = EvalConfig(tasks=6, samples_per_task=4, ks=(1, 2, 4), max_new_tokens=8, seed=11)
    first = evaluate(base, env, tasks, config)
    again = evaluate(base, env, tasks, config)
    assert first == again
    assert (first.n_tasks, first.samples, sorted(first.pass_at_k)) == (6, 4, [1, 2, 4])
    assert first.pass_at_1 == first.pass_at_k[1] == sum(first.correct) / 24
    assert first.pass_at_k[1] <= first.pass_at_k[2] <= first.pass_at_k[4] <= 1.0
