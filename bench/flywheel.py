"""The chain-free flywheel, fine-tuning (SFT) and GRPO side by side from the same base model.

A tiny byte-level model (``worldgym.policy.tiny``) is warmed up on the environment's
format (``worldgym.refinery.pretrain``), then each algorithm runs ``--rounds`` rounds of
:func:`worldgym.refinery.loop_offline.refine_round`: the current model samples a group
per fresh training task exactly as a miner does (the spec's group size,
temperature and top-p; noise from each task's key), the refinery's own
selection keeps the verified traces (sft) or the informative groups (grpo),
the model trains on them, and pass@1 is measured on the same held-out tasks
every round. Round 1 of both starts from the very same rollouts of the base
model; later rounds sample from each lineage's own model, on the same tasks.
No gate: every round's candidate goes on (the on-chain refinery gates).

Prints pass@1 per round for each algorithm, the rows each trained on, the
training throughput (tokens/s), and writes ``history.json`` and
``learning_curve.png`` with both curves to ``--out``.
Usage: ``python bench/flywheel.py [--env sums|arithmetic] [--rounds 3] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worldgym.refinery.config import EvalConfig, GrpoConfig, RoundConfig
from worldgym.refinery.pretrain import GRPO_TRAIN_CONFIG, REFINE_TRAIN_CONFIG

ENV_ID, VERSION = 1, 1
EVAL = EvalConfig(tasks=128, samples_per_task=4, ks=(1, 4), max_new_tokens=20, seed=7)
CONFIGS: dict[str, RoundConfig] = {
    "sft": RoundConfig(algorithm="sft", max_new_tokens=20, train=REFINE_TRAIN_CONFIG, eval=EVAL),
    "grpo": RoundConfig(
        algorithm="grpo", max_new_tokens=20, train=GRPO_TRAIN_CONFIG, grpo=GrpoConfig(), eval=EVAL
    ),
}


def run(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """Warm up the base model, run both lineages, and return the report."""
    from worldgym import gym
    from worldgym.gym.environments import example_path
    from worldgym.refinery.curve import CURVE_NAME, append_round
    from worldgym.refinery.evaluate import evaluate, held_out_tasks
    from worldgym.refinery.loop_offline import refine_round, round_tasks, sample_groups
    from worldgym.refinery.pretrain import pretrain_tiny

    env = gym.load_environment(example_path(args.env))
    budget = {"max_new_tokens": args.max_new_tokens}
    eval_config = EVAL.model_copy(update={"tasks": args.eval_tasks, **budget})
    eval_tasks = held_out_tasks(env, ENV_ID, VERSION, "flywheel", eval_config.tasks)
    base = Path(args.base) if args.base else pretrain_tiny(out / "base", env).out_dir
    start = evaluate(base, env, eval_tasks, eval_config).pass_at_1
    algorithms = args.algorithms.split(",")
    models = dict.fromkeys(algorithms, base)
    curves: dict[str, list[float]] = {a: [start] for a in algorithms}
    rounds: dict[str, list[dict[str, Any]]] = {a: [] for a in algorithms}
    for number in range(1, args.rounds + 1):
        tasks = round_tasks(env, ENV_ID, VERSION, number, args.tasks)
        shared = None
        if number == 1:
            from worldgym.policy.hf import TransformersPolicy

            sampler = TransformersPolicy(base, batch_size=64)
            config = CONFIGS[algorithms[0]].model_copy(update=budget)
            shared = sample_groups(sampler, env, tasks, config, model_digest=str(base))
        for algorithm in algorithms:
            config = CONFIGS[algorithm].model_copy(update={"eval": eval_config, **budget})
            result = refine_round(
                models[algorithm], env, tasks, eval_tasks, config,
                out_dir=out / algorithm / f"round-{number}", rollouts=shared,
                round_number=number,
            )  # fmt: skip
            models[algorithm] = result.model_dir
            curves[algorithm].append(result.evaluation.pass_at_1)
            summary = result.to_json()
            rounds[algorithm].append(summary)
            before, after = curves[algorithm][-2:]
            append_round(
                out,
                {
                    "run": f"{algorithm}-{number}", "series": algorithm, "algorithm": algorithm,
                    "accepted": True, "selected": result.selected,
                    "environments": {args.env: {"parent": before, "candidate": after}},
                },
            )  # fmt: skip
            print(
                f"round {number} {algorithm:<4}: pass@1 {curves[algorithm][-1]:.3f}, "
                f"{result.selected} rows of {result.generated} samples "
                f"(signal {result.rollouts.consensus_bps} bps), "
                f"{summary['train_tokens_per_s'] or 0:,.0f} training tokens/s",
                file=sys.stderr,
            )
    return {
        "env": args.env,
        "rounds": args.rounds,
        "train_tasks": args.tasks,
        "eval_tasks": eval_config.tasks,
        "pass_at_1": curves,
        "tokens_per_s": {
            a: _mean([r["train_tokens_per_s"] for r in rounds[a] if r["train_tokens_per_s"]])
            for a in algorithms
        },
        "rounds_detail": rounds,
        "curve": str(out / CURVE_NAME),
    }


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def main() -> int:
    """Run the flywheel and print pass@1 per round for each algorithm (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--env", default="sums", help="an example environment (sums, arithmetic)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=256, help="training tasks per round")
    parser.add_argument("--eval-tasks", type=int, default=EVAL.tasks)
    parser.add_argument(
        "--max-new-tokens",
        type=int,
        default=20,
        help="completion budget (sums: 20, arithmetic: 32)",
    )
    parser.add_argument("--algorithms", default="sft,grpo")
    parser.add_argument("--base", help="a warmed-up model directory to start from instead")
    parser.add_argument("--out", help="where models, history and the plot go (default: temp)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from worldgym.refinery.train import import_ml

    import_ml()  # quiet progress bars and logs
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or tmp)
        report = run(args, out)
        report["seconds"] = round(time.perf_counter() - started, 1)
        if args.json:
            print(json.dumps(report, indent=1))
            return 0
        algorithms = list(report["pass_at_1"])
        print(f"{args.env}: pass@1 on {report['eval_tasks']} held-out tasks")
        print(f"{'round':<7}" + "".join(f"{a:>8}" for a in algorithms))
        for number in range(args.rounds + 1):
            print(
                f"{number:<7}"
                + "".join(f"{report['pass_at_1'][a][number]:>8.3f}" for a in algorithms)
            )
        print(
            "training tokens/s: "
            + ", ".join(f"{a} {report['tokens_per_s'][a]:,.0f}" for a in algorithms)
        )
        if args.out:
            print(f"learning curve: {report['curve']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
