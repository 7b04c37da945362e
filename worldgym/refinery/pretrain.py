"""A brief warm start for the tiny model, so that the flywheel has something to amplify.

A freshly initialised model never writes ``<answer>...</answer>``, so it never
scores and expert iteration has nothing to keep. :func:`pretrain_tiny` teaches
it the environment's answer *format* on a few synthetic examples drawn from
the environment's own generator (with a pretraining-only seed and env id 0,
never the held-out evaluation tasks); kept short, the model learns the format
and the rough range of answers but little of the task, which leaves it
succeeding now and then (pass@1 of a few percent to ~20 % on simple tasks).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak

from worldgym.gym import Environment, Task
from worldgym.gym.spec import BoxedExtract, CodeBlockExtract, FullExtract, TagExtract
from worldgym.policy.tiny import TinyModelConfig
from worldgym.refinery.config import TrainConfig
from worldgym.refinery.errors import TrainingError
from worldgym.refinery.train import LogCallback, TrainResult, train_sft

__all__ = [
    "GRPO_TRAIN_CONFIG",
    "PRETRAIN_CONFIG",
    "PRETRAIN_MINER",
    "PRETRAIN_SHAPE",
    "REFINE_TRAIN_CONFIG",
    "answer_text",
    "pretrain_examples",
    "pretrain_tasks",
    "pretrain_tiny",
]

PRETRAIN_MINER = "0x" + keccak(b"worldgym.refinery.pretrain-miner")[:20].hex()
"""The pseudo-miner address pretraining tasks are derived for."""

PRETRAIN_CONFIG = TrainConfig(learning_rate=3e-3, epochs=2, batch_size=16)
"""With 1,024 examples (128 steps): the format, and a few percent of the sums right."""

REFINE_TRAIN_CONFIG = TrainConfig(learning_rate=1e-3, epochs=8, batch_size=8, lr_scheduler="linear")
"""Fine-tuning the warmed-up tiny model on a round's verified traces (~100 to 250): with it,
three rounds of expert iteration on sums take pass@1 from ~0.1 to ~0.3-0.4 (the flywheel
test and ``make demo``)."""

GRPO_TRAIN_CONFIG = TrainConfig(learning_rate=3e-4, epochs=8, batch_size=64, lr_scheduler="linear")
"""GRPO on a round's informative groups of the warmed-up tiny model (~1,000 rollouts on sums).
Measured on the same first-round rollouts (``bench/flywheel.py``): lr 1e-3 made the model worse
whatever the batch (pass@1 0.102 -> 0.078), 3e-4 for 8 epochs was the best of 2, 4, 8 and 16
epochs (0.119; 16 gave 0.123 in twice the time)."""

PRETRAIN_SHAPE = TinyModelConfig(hidden_size=128, layers=2, heads=4, intermediate_size=384)
"""A tiny model wide enough to learn one-digit sums on a CPU in a few hundred steps."""


def answer_text(env: Environment, answer: str) -> str:
    """``answer`` written the way ``env`` extracts it (``<answer>42</answer>``, ``\\boxed{42}``...).

    Raises:
        TrainingError: the environment extracts with a regex (no canonical way to write it).
    """
    extract = env.spec.extract
    if isinstance(extract, TagExtract):
        return f"<{extract.tag}>{answer}</{extract.tag}>"
    if isinstance(extract, BoxedExtract):
        return f"\\boxed{{{answer}}}"
    if isinstance(extract, CodeBlockExtract):
        return f"```{extract.language}\n{answer}\n```"
    if isinstance(extract, FullExtract):
        return answer
    raise TrainingError(
        f"cannot write answers for {env.spec.name}: its extract kind is "
        f"{extract.kind!r}; pretrain on an environment with tag, boxed, code_block or full"
    )


def pretrain_tasks(env: Environment, n: int, *, seed: int = 0) -> list[Task]:
    """``n`` tasks for pretraining (env id 0, version 0: disjoint from any registered env's)."""
    epoch_seed = keccak(b"worldgym.pretrain" + seed.to_bytes(32, "big"))
    return env.tasks(epoch_seed, 0, 0, PRETRAIN_MINER, range(n))


def pretrain_examples(env: Environment, n: int, *, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` chat examples: the environment's prompt and its reference answer, formatted."""
    examples = []
    for task in pretrain_tasks(env, n, seed=seed):
        if task.answer is None:
            raise TrainingError(f"{env.spec.name} has tasks without a reference answer")
        reply = {"role": "assistant", "content": answer_text(env, task.answer)}
        examples.append({"messages": [*env.prompt(task), reply]})
    return examples


def pretrain_tiny(
    model_dir: Path,
    env: Environment,
    *,
    n_examples: int = 1024,
    config: TrainConfig = PRETRAIN_CONFIG,
    model_seed: int = 0,
    shape: TinyModelConfig = PRETRAIN_SHAPE,
    on_log: LogCallback | None = None,
) -> TrainResult:
    """Build the tiny model (:func:`policy.tiny.build_tiny_model`) and warm it up on ``env``.

    ``n_examples`` synthetic examples for ``config.epochs`` epochs, on a model
    of ``shape`` initialised from ``model_seed``. The result is a full model
    directory in ``model_dir``.
    """
    from worldgym.policy.tiny import build_tiny_model

    if n_examples < 1:
        raise TrainingError(f"pretrain on at least one example, not {n_examples}")
    examples = pretrain_examples(env, n_examples, seed=config.seed)
    model_dir = Path(model_dir)
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".init-", dir=model_dir.parent))
    try:
        build_tiny_model(scratch, seed=model_seed, config=shape)
        return train_sft(scratch, examples, model_dir, config, on_log=on_log)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
