"""Refinery training throughput against TRL's own trainers on the same data, SFT and GRPO.

Both sides train the same tiny model (``worldgym.policy.tiny``) with the same learning
rate, epochs, batch size and maximum length.

**sft**: the same chat examples of the ``sums`` environment.

* ``train_sft``: :func:`worldgym.refinery.train.train_sft` (prompt/completion rows,
  completion-only loss, fp32, no activation checkpointing, saves safetensors);
* plain TRL: ``trl.SFTTrainer`` given the ``messages`` dataset directly with
  ``SFTConfig``'s own defaults for everything else (on a CPU these turn on
  bf16 autocast and activation checkpointing), no saving.

**grpo**: the same groups of rollouts: ``G`` completions per distinct ``sums``
question sampled by the model itself (token ids and log-probabilities), with
scores that alternate pass/fail inside each group (the bench measures speed,
not learning).

* ``train_grpo``: :func:`worldgym.refinery.train_grpo.train_grpo` (ratio against the
  recorded behaviour log-probabilities, clipping 0.2/0.28, ``delta`` 4,
  token-level mean);
* TRL: ``trl.GRPOTrainer`` fed those very rollouts through its experimental
  ``rollout_func`` (prompt ids, completion ids, log-probabilities) with a reward
  function returning the scores, and the matching ``GRPOConfig`` (``dapo``
  loss, epsilon 0.2/0.28, ``delta`` 4, ``beta`` 0, one iteration per
  generation, no activation checkpointing), no saving.

Throughput is the tokens trained on (prompt plus completion, times epochs)
over the wall time of the training loop (``trainer.train()`` for TRL; setup
and saving excluded on both sides). Sides alternate for ``--repeats`` rounds;
the best time counts.
Usage: ``python bench/refinery_bench.py [--algorithm sft|grpo|both] [--repeats R] [--json]``.
Goal: ratio refinery / TRL >= 1.0 for SFT, >= 0.8 for GRPO.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOALS = {"sft": 1.0, "grpo": 0.8}
GROUP = 8
Side = Callable[[Path, list[dict[str, Any]], Path, Any], tuple[int, float]]


# ─── SFT ─────────────────────────────────────────────────────────────────────


def _sft_data(base: Path, n: int) -> list[dict[str, Any]]:
    from worldgym import gym
    from worldgym.gym.environments import example_path
    from worldgym.refinery.pretrain import pretrain_examples

    return pretrain_examples(gym.load_environment(example_path("sums")), n)


def _sft_ours(base: Path, rows: list[dict[str, Any]], out: Path, config: Any) -> tuple[int, float]:
    from worldgym.refinery.train import train_sft

    result = train_sft(base, rows, out, config)
    return result.tokens, result.seconds


def _sft_trl(base: Path, rows: list[dict[str, Any]], out: Path, config: Any) -> tuple[int, float]:
    from worldgym.refinery.train import import_ml

    datasets, torch, transformers, trl = import_ml()
    transformers.set_seed(config.seed)
    args = trl.SFTConfig(
        output_dir=str(out),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        max_length=config.max_length,
        seed=config.seed,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
        use_cpu=not torch.cuda.is_available(),  # TRL refuses to start on a CPU without it
    )
    trainer = trl.SFTTrainer(
        model=str(base),
        args=args,
        train_dataset=datasets.Dataset.from_list(rows),
        processing_class=transformers.AutoTokenizer.from_pretrained(base),
    )
    trainer.remove_callback(transformers.PrinterCallback)
    tokens = sum(len(ids) for ids in trainer.train_dataset["input_ids"]) * config.epochs
    started = time.perf_counter()
    trainer.train()
    return tokens, time.perf_counter() - started


# ─── GRPO ────────────────────────────────────────────────────────────────────


def _grpo_data(base: Path, n: int) -> list[dict[str, Any]]:
    """GRPO rows: ``GROUP`` samples of the model for each of ``n / GROUP`` distinct questions."""
    from worldgym import gym
    from worldgym.core.schemas import Sampling
    from worldgym.gym.environments import example_path
    from worldgym.policy.hf import TransformersPolicy
    from worldgym.refinery.pretrain import pretrain_tasks

    env = gym.load_environment(example_path("sums"))
    tasks: list[Any] = []
    seen: set[str] = set()
    for task in pretrain_tasks(env, 4 * n, seed=1):
        if task.question not in seen and len(tasks) < n // GROUP:
            seen.add(task.question)
            tasks.append(task)
    prompts = [env.prompt(t) for t in tasks]
    sampling = Sampling(temperature=1.0, top_p=1.0, max_new_tokens=24)
    groups = TransformersPolicy(base, batch_size=64).generate(
        prompts, n=GROUP, sampling=sampling, seed=3
    )
    return [
        {
            "messages": [*prompt, {"role": "assistant", "content": c.text}],
            "group": str(number),
            "score": float(j % 2),
            "tokens": c.tokens,
            "logprobs": c.logprobs,
            "sampling": {"temperature": 1.0, "top_p": 1.0},
            "model": {"id": 1, "digest": str(base)},
        }
        for number, (prompt, group) in enumerate(zip(prompts, groups, strict=True))
        for j, c in enumerate(group)
    ]


def _grpo_config() -> Any:
    from worldgym.refinery.config import GrpoConfig

    return GrpoConfig()


def _grpo_ours(base: Path, rows: list[dict[str, Any]], out: Path, config: Any) -> tuple[int, float]:
    from worldgym.refinery.train_grpo import train_grpo

    result = train_grpo(base, rows, out, config, _grpo_config())
    return result.tokens, result.seconds


def _rollout_func(rows: list[dict[str, Any]], tokenizer: Any) -> Callable[..., dict[str, Any]]:
    """TRL's ``rollout_func``: the recorded samples of each prompt's group, in sample order.

    The sampler repeats each prompt ``GROUP`` times in a row; the questions are
    distinct, so a prompt's text finds its group.
    """
    from worldgym.core.prompts import chat_prompt_ids

    by_prompt: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_prompt[json.dumps(row["messages"][:-1])].append(row)

    def rollout(prompts: list[Any], trainer: Any) -> dict[str, Any]:
        seen: dict[str, int] = defaultdict(int)
        out: dict[str, list[Any]] = defaultdict(list)
        for prompt in prompts:
            key = json.dumps(prompt)
            row = by_prompt[key][seen[key] % GROUP]
            seen[key] += 1
            out["prompt_ids"].append(chat_prompt_ids(tokenizer, prompt))
            out["completion_ids"].append(row["tokens"])
            out["logprobs"].append(row["logprobs"])
            out["score"].append(row["score"])
        return dict(out)

    return rollout


def _recorded_score(completions: list[Any], score: list[float], **_: Any) -> list[float]:
    """TRL reward function: the verified score the rollout carries."""
    return score


def _grpo_trl(base: Path, rows: list[dict[str, Any]], out: Path, config: Any) -> tuple[int, float]:
    from worldgym.refinery.train import checkpointing_option, import_ml

    datasets, torch, transformers, trl = import_ml()
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    transformers.set_seed(config.seed)
    grpo = _grpo_config()
    tokenizer = transformers.AutoTokenizer.from_pretrained(base)
    prompts = {json.dumps(r["messages"][:-1]): r["messages"][:-1] for r in rows}
    args = trl.GRPOConfig(
        output_dir=str(out),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        num_generations=GROUP,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        max_completion_length=max(len(r["tokens"]) for r in rows),
        loss_type="dapo",
        epsilon=grpo.clip_low,
        epsilon_high=grpo.clip_high,
        delta=grpo.delta,
        beta=grpo.kl_beta,
        scale_rewards="group",
        seed=config.seed,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        disable_tqdm=True,
        bf16=False,
        use_cpu=not torch.cuda.is_available(),
        **checkpointing_option(trl.GRPOConfig, False),
    )
    trainer = trl.GRPOTrainer(
        model=str(base),
        reward_funcs=_recorded_score,
        args=args,
        train_dataset=datasets.Dataset.from_list([{"prompt": p} for p in prompts.values()]),
        processing_class=tokenizer,
        rollout_func=_rollout_func(rows, tokenizer),
    )
    trainer.remove_callback(transformers.PrinterCallback)
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    return int(trainer.state.num_input_tokens_seen), seconds


SIDES: dict[str, tuple[Callable[[Path, int], list[dict[str, Any]]], Side, Side, str]] = {
    "sft": (_sft_data, _sft_ours, _sft_trl, "plain TRL SFTTrainer"),
    "grpo": (_grpo_data, _grpo_ours, _grpo_trl, "TRL GRPOTrainer"),
}


def bench(algorithm: str, base: Path, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Both sides of one algorithm, alternating; the best time of each."""
    from worldgym.refinery.config import TrainConfig

    make_data, ours, theirs, their_name = SIDES[algorithm]
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, max_length=256)
    rows = make_data(base, args.examples)
    best: dict[str, tuple[int, float]] = {}
    names = {"refinery": ours, their_name: theirs}
    for repeat in range(args.repeats):
        for name, run in names.items():
            tokens, seconds = run(base, rows, tmp / f"{algorithm}-{name}-{repeat}", config)
            if name not in best or seconds < best[name][1]:
                best[name] = (tokens, seconds)
    rates = {name: tokens / seconds for name, (tokens, seconds) in best.items()}
    return {
        "rows": len(rows),
        "epochs": args.epochs,
        "tokens": {name: tokens for name, (tokens, _) in best.items()},
        "seconds": {name: seconds for name, (_, seconds) in best.items()},
        "tokens_per_s": rates,
        "ratio": rates["refinery"] / rates[their_name],
        "goal": GOALS[algorithm],
    }


def main() -> int:
    """Run the bench and print the ratios (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--algorithm", choices=("sft", "grpo", "both"), default="both")
    parser.add_argument("--examples", type=int, default=256, help="rows (traces) per side")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    from worldgym.policy.tiny import build_tiny_model
    from worldgym.refinery.train import import_ml

    import_ml()  # quiet progress bars and logs for both sides
    algorithms = ["sft", "grpo"] if args.algorithm == "both" else [args.algorithm]
    report: dict[str, Any] = {
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        base = build_tiny_model(Path(tmp) / "base")
        for algorithm in algorithms:
            report[algorithm] = bench(algorithm, base, Path(tmp), args)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    for algorithm in algorithms:
        result = report[algorithm]
        print(f"{algorithm}: {result['rows']} rows, {result['epochs']} epoch(s)")
        print(f"  {'side':<22}{'tokens':>9}{'seconds':>9}{'tokens/s':>11}")
        for name, rate in result["tokens_per_s"].items():
            tokens, seconds = result["tokens"][name], result["seconds"][name]
            print(f"  {name:<22}{tokens:>9}{seconds:>9.2f}{rate:>11.0f}")
        print(f"  ratio refinery / TRL: {result['ratio']:.2f} (goal >= {result['goal']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
