"""Held-out evaluation: pass@1 and pass@k of a checkpoint on an environment's tasks.

Held-out tasks come from the environment's own derivation with a refinery-only
seed (``keccak(b"worldgym.eval" + key)``) and a fixed pseudo-miner address, so
no miner is ever served them and every refinery derives the same ones for the
same key. pass@k uses the unbiased estimator of Chen et al. (2021).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eth_hash.auto import keccak

from worldgym.core.schemas import Sampling
from worldgym.gym import Environment, Task
from worldgym.policy import Policy, load_policy
from worldgym.refinery.config import EvalConfig
from worldgym.refinery.errors import TrainConfigError

__all__ = [
    "EVAL_MINER",
    "EvalResult",
    "default_device",
    "eval_seed",
    "evaluate",
    "evaluate_policy",
    "held_out_tasks",
    "is_pass",
    "pass_at_k",
]

EVAL_MINER = "0x" + keccak(b"worldgym.refinery.eval-miner")[:20].hex()
"""The pseudo-miner address held-out tasks are derived for (no real key maps to it)."""


@dataclass(frozen=True)
class EvalResult:
    """pass@1 and pass@k (k -> estimate) over ``n_tasks`` tasks, ``samples`` completions each.

    ``correct`` holds, per task, how many of its samples passed.
    """

    pass_at_1: float
    pass_at_k: dict[int, float]
    n_tasks: int
    samples: int
    correct: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (k keys as strings)."""
        return {
            "pass_at_1": self.pass_at_1,
            "pass_at_k": {str(k): v for k, v in sorted(self.pass_at_k.items())},
            "n_tasks": self.n_tasks,
            "samples": self.samples,
        }


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from ``n`` samples of which ``c`` passed: ``1 - C(n-c, k) / C(n, k)``.

    Raises:
        TrainConfigError: the counts are impossible (``0 <= c <= n``, ``1 <= k <= n``).
    """
    if not (0 <= c <= n and 1 <= k <= n):
        raise TrainConfigError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    # Product form: numerically stable, no huge binomials.
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def is_pass(value: float) -> bool:
    """Whether a score counts as solved (a full score of 1)."""
    return value >= 1.0


def eval_seed(key: int | bytes | str) -> bytes:
    """The 32-byte epoch-like seed of held-out set ``key`` (a round number, a name or bytes)."""
    if isinstance(key, bool) or not isinstance(key, int | bytes | str):
        raise TrainConfigError(f"an evaluation key is an int, bytes or str, not {key!r}")
    if isinstance(key, int):
        if key < 0:
            raise TrainConfigError(f"an evaluation key must not be negative ({key})")
        raw = key.to_bytes(32, "big")
    else:
        raw = key.encode() if isinstance(key, str) else key
    return bytes(keccak(b"worldgym.eval" + raw))


def held_out_tasks(
    env: Environment, env_id: int, version: int, key: int | bytes | str, n: int
) -> list[Task]:
    """``n`` held-out tasks of ``env`` for evaluation set ``key`` (indices 0..n-1)."""
    if n < 1:
        raise TrainConfigError(f"ask for at least one held-out task, not {n}")
    return env.tasks(eval_seed(key), env_id, version, EVAL_MINER, range(n))


def evaluate(
    model_dir: Path, env: Environment, tasks: Sequence[Task], config: EvalConfig
) -> EvalResult:
    """pass@1 and pass@k of the model in ``model_dir`` on ``tasks`` (:func:`evaluate_policy`)."""
    policy = load_policy(
        config.backend, Path(model_dir), device=default_device(), batch_size=config.batch_size
    )
    return evaluate_policy(policy, env, tasks, config)


def evaluate_policy(
    policy: Policy, env: Environment, tasks: Sequence[Task], config: EvalConfig
) -> EvalResult:
    """Sample ``config.samples_per_task`` completions per task and score them with ``env``.

    The same model, tasks and config give the same numbers (the samples' noise
    comes from keys derived from ``config.seed``).
    """
    if not tasks:
        raise TrainConfigError("there are no tasks to evaluate on")
    n = config.samples_per_task
    sampling = Sampling(
        temperature=config.temperature, top_p=config.top_p, max_new_tokens=config.max_new_tokens
    )
    prompts = [env.prompt(t) for t in tasks]
    groups = policy.generate(prompts, n=n, sampling=sampling, seed=config.seed)
    correct = [
        sum(is_pass(env.score(task, c.text).value) for c in group)
        for task, group in zip(tasks, groups, strict=True)
    ]
    ks = sorted(set(config.ks) | {1})
    estimates = {k: sum(pass_at_k(n, c, k) for c in correct) / len(tasks) for k in ks}
    return EvalResult(estimates[1], estimates, len(tasks), n, correct)


def default_device() -> str:
    """``cuda`` when a GPU is visible, else ``cpu``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
