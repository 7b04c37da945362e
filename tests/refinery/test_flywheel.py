"""The flywheel, chain-free: a tiny model gets better at sums from its own verified samples.

Build the tiny model, warm it up briefly (it then solves about a tenth of the
sums), and run three rounds: sample a group per fresh task as a miner would,
keep the completions the environment scores 1.0 (the refinery's own
selection), fine-tune on them, and measure pass@1 on the same held-out tasks
every round. Real reasoning-gym, real TRL. ``bench/flywheel.py`` runs GRPO
beside it and prints both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from worldgym import gym
from worldgym.gym.environments import example_path
from worldgym.refinery.config import EvalConfig, RoundConfig
from worldgym.refinery.curve import CURVE_NAME, append_round, load_history
from worldgym.refinery.evaluate import evaluate, held_out_tasks
from worldgym.refinery.loop_offline import refine_round, round_tasks
from worldgym.refinery.pretrain import REFINE_TRAIN_CONFIG, pretrain_tiny

pytestmark = [pytest.mark.ml, pytest.mark.slow]

ENV_ID, VERSION = 1, 1
ROUNDS = 3
TRAIN_TASKS = 256
EVAL = EvalConfig(tasks=128, samples_per_task=4, ks=(1, 4), max_new_tokens=20, seed=7)
ROUND = RoundConfig(algorithm="sft", max_new_tokens=20, train=REFINE_TRAIN_CONFIG, eval=EVAL)


def test_expert_iteration_at_least_doubles_pass_at_1(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("trl")
    env = gym.load_environment(example_path("sums"))
    eval_tasks = held_out_tasks(env, ENV_ID, VERSION, "flywheel", EVAL.tasks)

    model = pretrain_tiny(tmp_path / "round-0", env).out_dir
    start = evaluate(model, env, eval_tasks, EVAL).pass_at_1
    curve = [start]
    for number in range(1, ROUNDS + 1):
        result = refine_round(
            model,
            env,
            round_tasks(env, ENV_ID, VERSION, number, TRAIN_TASKS),
            eval_tasks,
            ROUND,
            out_dir=tmp_path / f"round-{number}",
            round_number=number,
        )
        assert result.generated == TRAIN_TASKS * env.spec.group_size
        assert 0 < result.selected <= sum(t.score >= 1.0 for t in result.rollouts.traces)
        model = result.model_dir
        curve.append(result.evaluation.pass_at_1)
        append_round(
            tmp_path,
            {
                "run": f"round-{number}",
                "accepted": True,
                "algorithm": "sft",
                "selected": result.selected,
                "environments": {"sums": {"parent": curve[-2], "candidate": curve[-1]}},
            },
        )

    print("flywheel pass@1 per round:", [round(p, 3) for p in curve])
    assert [r["round"] for r in load_history(tmp_path)] == [1, 2, 3]
    assert (tmp_path / CURVE_NAME).read_bytes().startswith(b"\x89PNG")
    assert start > 0, "the warm start must sometimes succeed, or there is nothing to amplify"
    assert curve[-1] >= 2 * start, f"pass@1 per round {curve}: not doubled after {ROUNDS} rounds"
