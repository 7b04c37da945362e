"""One round of expert iteration, chain-free: sample, keep the verified, fine-tune, evaluate.

The on-chain refinery feeds :func:`expert_iteration_round` the tasks miners
solved; the flywheel test and the demo feed it fresh tasks derived from a
per-round seed (:func:`round_tasks`). Either way the step is the same:
``samples_per_task`` completions per training task from the current model,
keep those the environment scores 1.0, drop duplicates, fine-tune the current
model on them, and measure pass@1 on the (fixed) held-out tasks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak

from client.schemas import Sampling
from gym import Environment, Task
from refinery.config import RoundConfig
from refinery.errors import TrainConfigError
from refinery.evaluate import EvalResult, default_device, evaluate_policy, is_pass
from refinery.train import LogCallback, TrainResult, train_sft

__all__ = [
    "ROUND_MINER",
    "RoundResult",
    "collect_verified",
    "expert_iteration_round",
    "round_tasks",
]

ROUND_MINER = "0x" + keccak(b"worldgym.refinery.round-miner")[:20].hex()
"""The pseudo-miner address offline training tasks are derived for."""


@dataclass(frozen=True)
class RoundResult:
    """What a round did.

    ``model_dir`` is the model after the round (``out_dir``, or the input model
    when nothing verified was found and ``train`` is None); ``evaluation`` is
    that model on the held-out tasks.
    """

    model_dir: Path
    generated: int
    verified: int
    kept: int
    train: TrainResult | None
    evaluation: EvalResult
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (for the learning-curve history)."""
        return {
            "model_dir": str(self.model_dir),
            "generated": self.generated,
            "verified": self.verified,
            "kept": self.kept,
            "train_steps": self.train.steps if self.train else 0,
            "train_loss": self.train.train_loss if self.train else None,
            "pass_at_1": self.evaluation.pass_at_1,
            "pass_at_k": {str(k): v for k, v in self.evaluation.pass_at_k.items()},
            "seconds": self.seconds,
        }


def round_tasks(
    env: Environment, env_id: int, version: int, round_number: int, n: int
) -> list[Task]:
    """``n`` fresh training tasks for offline round ``round_number`` (never the held-out ones)."""
    if round_number < 0 or n < 1:
        raise TrainConfigError(f"round {round_number} with {n} tasks: both must be >= 0 and >= 1")
    seed = keccak(b"worldgym.round" + round_number.to_bytes(32, "big"))
    return env.tasks(seed, env_id, version, ROUND_MINER, range(n))


def collect_verified(
    policy: Any, env: Environment, tasks: Sequence[Task], n: int, sampling: Sampling
) -> tuple[list[dict[str, Any]], int, int]:
    """Sample ``n`` completions per task; return (unique verified examples, generated, verified).

    An example is ``{"messages": prompt + [assistant completion]}``; samples of
    one task with the same completion text are kept once (the refinery's rule:
    one trace per task and completion).
    """
    prompts = [env.prompt(task) for task in tasks]
    groups = policy.generate(prompts, n=n, sampling=sampling)
    seen: set[tuple[bytes, str]] = set()
    examples: list[dict[str, Any]] = []
    verified = 0
    for task, prompt, group in zip(tasks, prompts, groups, strict=True):
        for completion in group:
            if completion.finish_reason != "stop" or not completion.text:
                continue
            if not is_pass(env.score(task, completion.text).value):
                continue
            verified += 1
            key = (task.task_seed, completion.text)
            if key in seen:
                continue
            seen.add(key)
            reply = {"role": "assistant", "content": completion.text}
            examples.append({"messages": [*prompt, reply]})
    return examples, n * len(tasks), verified


def expert_iteration_round(
    model_dir: Path,
    env: Environment,
    train_tasks: Sequence[Task],
    eval_tasks: Sequence[Task],
    config: RoundConfig,
    *,
    out_dir: Path,
    on_log: LogCallback | None = None,
) -> RoundResult:
    """Sample on ``train_tasks``, fine-tune ``model_dir`` on the verified completions into
    ``out_dir``, and evaluate the result on ``eval_tasks``.

    Only completions that end with the end-of-sequence token are kept (a
    truncated one would teach the model never to stop).
    """
    from policy.hf import TransformersPolicy

    started = time.perf_counter()
    device = default_device()
    current = TransformersPolicy(Path(model_dir), device=device, batch_size=config.batch_size)
    sampling = Sampling(
        temperature=config.temperature,
        top_p=config.top_p,
        max_new_tokens=config.max_new_tokens,
        seed=config.seed,
    )
    examples, generated, verified = collect_verified(
        current, env, train_tasks, config.samples_per_task, sampling
    )
    train: TrainResult | None = None
    result_dir = Path(model_dir)
    if examples:
        train = train_sft(Path(model_dir), examples, Path(out_dir), config.train, on_log=on_log)
        result_dir = train.out_dir
        current = TransformersPolicy(result_dir, device=device, batch_size=config.batch_size)
    evaluation = evaluate_policy(current, env, eval_tasks, config.eval)
    return RoundResult(
        result_dir,
        generated,
        verified,
        len(examples),
        train,
        evaluation,
        time.perf_counter() - started,
    )
