"""One refinery round, chain-free: sample groups as miners do, select, train, evaluate.

The on-chain refinery reads the miners' batches; the flywheel bench, the
flywheel test and the demo's warm-up make their own from tasks derived with a
per-round seed (:func:`round_tasks`). Either way the steps are the same code:

1. :func:`sample_groups`: the current model draws ``group_size`` completions
   per task with the spec's temperature and top-p, each sample's noise from
   its key (:class:`worldgym.policy.gumbel.SampleKey`, as a miner's), and every
   completion is scored by the environment. The result is a
   :class:`~worldgym.refinery.selection.LedgerBatch`, what the refinery reads from chain;
2. :func:`train_round`: the same selection as on chain (``sft``:
   :func:`refinery.selection.select`, ``grpo``: :func:`refinery.groups.select_groups`),
   the same dataset rows, then :func:`worldgym.refinery.train.train_sft` or
   :func:`worldgym.refinery.train_grpo.train_grpo`;
3. :func:`refine_round` chains both and measures pass@1 on held-out tasks.

Passing ``rollouts`` to :func:`refine_round` trains on given samples, so two
algorithms can start from the very same groups.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak

from worldgym.core.schemas import Sampling
from worldgym.gym import Environment, Task
from worldgym.gym.signal import batch_signal_bps
from worldgym.policy import Policy, load_policy
from worldgym.refinery.config import Algorithm, RoundConfig
from worldgym.refinery.dataset import dataset_rows, group_rows
from worldgym.refinery.errors import TrainConfigError
from worldgym.refinery.evaluate import EvalResult, default_device, evaluate_policy
from worldgym.refinery.groups import select_groups
from worldgym.refinery.selection import (
    Behaviour,
    Ledger,
    LedgerBatch,
    LedgerTrace,
    SelectionConfig,
    select,
)
from worldgym.refinery.train import LogCallback, TrainResult, train_sft

__all__ = [
    "OFFLINE_SELECTION",
    "ROUND_MINER",
    "RoundResult",
    "refine_round",
    "round_tasks",
    "sample_groups",
    "train_round",
]

ROUND_MINER = "0x" + keccak(b"worldgym.refinery.round-miner")[:20].hex()
"""The pseudo-miner address offline training tasks are derived for."""

OFFLINE_SELECTION = SelectionConfig(min_consensus_bps=0, max_traces=None, max_per_miner=None)
"""Every usable trace or group of a round (one pseudo-miner, no budget to share)."""


@dataclass(frozen=True)
class RoundResult:
    """What a round did.

    ``model_dir`` is the model after the round (``out_dir``, or the input
    model when nothing could be selected and ``train`` is None); ``evaluation``
    is that model on the held-out tasks. ``rollouts`` are the groups sampled
    (or given); ``selected`` the dataset rows trained on.
    """

    model_dir: Path
    algorithm: Algorithm
    rollouts: LedgerBatch
    selected: int
    train: TrainResult | None
    evaluation: EvalResult
    seconds: float

    @property
    def generated(self) -> int:
        """Completions sampled."""
        return len(self.rollouts.traces)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (for the learning-curve history)."""
        train = self.train
        return {
            "model_dir": str(self.model_dir),
            "algorithm": self.algorithm,
            "generated": self.generated,
            "signal_bps": self.rollouts.consensus_bps,
            "selected": self.selected,
            "train_steps": train.steps if train else 0,
            "train_loss": train.train_loss if train else None,
            "train_tokens_per_s": train.tokens_per_second if train else None,
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


def _sampling(env: Environment, config: RoundConfig) -> tuple[int, Sampling]:
    spec = env.spec
    group = config.group_size or spec.group_size
    sampling = Sampling(
        temperature=spec.sampling.temperature if config.temperature is None else config.temperature,
        top_p=spec.sampling.top_p if config.top_p is None else config.top_p,
        max_new_tokens=min(config.max_new_tokens, spec.max_tokens),
    )
    return group, sampling


def sample_groups(
    policy: Policy,
    env: Environment,
    tasks: Sequence[Task],
    config: RoundConfig,
    *,
    model_digest: str,
    round_number: int = 0,
    env_id: int = 1,
    version: int = 1,
) -> LedgerBatch:
    """A group of completions per task from ``policy`` (see the module docstring, step 1).

    ``model_digest`` names the sampling model in the rows (the behaviour
    model); the batch's consensus is its learning signal
    (:func:`worldgym.gym.signal.batch_signal_bps`), as validators would score it.
    """
    from worldgym.policy.gumbel import SampleKey

    group, sampling = _sampling(env, config)
    keys = [[SampleKey.derive(task.task_seed, j) for j in range(group)] for task in tasks]
    prompts = [env.prompt(task) for task in tasks]
    samples = policy.generate(prompts, n=group, sampling=sampling, keys=keys)
    traces = []
    scores: dict[int, list[float]] = defaultdict(list)
    for number, (task, prompt, completions) in enumerate(zip(tasks, prompts, samples, strict=True)):
        messages = tuple((m["role"], m["content"]) for m in prompt)
        for j, c in enumerate(completions):
            score = env.score(task, c.text).value
            scores[number].append(score)
            traces.append(
                LedgerTrace(number, j, messages, c.text, score, tuple(c.tokens), tuple(c.logprobs))
            )
    return LedgerBatch(
        epoch=round_number, index=0, cid=f"offline-round-{round_number}", miner=ROUND_MINER,
        env_id=env_id, env_version=version,
        consensus_bps=batch_signal_bps(scores), traces=tuple(traces),
        behaviour=Behaviour(0, model_digest, sampling.temperature, sampling.top_p),
    )  # fmt: skip


def train_round(
    model_dir: Path,
    rollouts: LedgerBatch,
    config: RoundConfig,
    *,
    out_dir: Path,
    on_log: LogCallback | None = None,
) -> tuple[int, TrainResult | None]:
    """Select from ``rollouts`` as on chain and train ``model_dir`` with ``config.algorithm``.

    Returns the number of rows trained on and the training result (None when
    nothing could be selected). GRPO's behaviour model is ``model_dir`` when
    the rollouts name it (``model_digest=str(model_dir)``).
    """
    ledger = Ledger((rollouts.epoch,), (rollouts,))
    if config.algorithm == "sft":
        rows = dataset_rows(select(ledger, OFFLINE_SELECTION))
        if not rows:
            return 0, None
        return len(rows), train_sft(Path(model_dir), rows, Path(out_dir), config.train, on_log)
    from worldgym.refinery.train_grpo import train_grpo

    rows = group_rows(select_groups(ledger, OFFLINE_SELECTION))
    if not rows:
        return 0, None
    behaviour = {str(model_dir): Path(model_dir)}
    result = train_grpo(
        Path(model_dir), rows, Path(out_dir), config.train, config.grpo,
        behaviour_models=behaviour, on_log=on_log,
    )  # fmt: skip
    return len(rows), result


def refine_round(
    model_dir: Path,
    env: Environment,
    train_tasks: Sequence[Task],
    eval_tasks: Sequence[Task],
    config: RoundConfig,
    *,
    out_dir: Path,
    rollouts: LedgerBatch | None = None,
    round_number: int = 0,
    on_log: LogCallback | None = None,
) -> RoundResult:
    """Sample on ``train_tasks`` (unless ``rollouts`` are given), train ``model_dir`` into
    ``out_dir`` with ``config.algorithm``, and evaluate the result on ``eval_tasks``."""
    started = time.perf_counter()
    device = default_device()
    current = load_policy(
        config.backend, Path(model_dir), device=device, batch_size=config.batch_size
    )
    if rollouts is None:
        rollouts = sample_groups(
            current, env, train_tasks, config, model_digest=str(model_dir),
            round_number=round_number,
        )  # fmt: skip
    selected, train = train_round(model_dir, rollouts, config, out_dir=out_dir, on_log=on_log)
    result_dir = Path(model_dir)
    if train is not None:
        result_dir = train.out_dir
        current = load_policy(
            config.backend, result_dir, device=device, batch_size=config.batch_size
        )
    evaluation = evaluate_policy(current, env, eval_tasks, config.eval)
    seconds = time.perf_counter() - started
    return RoundResult(result_dir, config.algorithm, rollouts, selected, train, evaluation, seconds)
