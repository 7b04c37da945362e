"""Refinery training throughput: ``train_sft`` against a plain TRL ``SFTTrainer``, same run.

Both sides fine-tune the same tiny model (``policy.tiny``) on the same chat
examples of the ``sums`` example environment, with the same learning rate,
epochs, batch size and maximum length:

* **train_sft**: :func:`refinery.train.train_sft` (prompt/completion rows,
  completion-only loss, fp32, no gradient checkpointing, saves safetensors);
* **plain TRL**: ``trl.SFTTrainer`` given the ``messages`` dataset directly
  with ``SFTConfig``'s own defaults for everything else (on a CPU these turn
  on bf16 autocast and gradient checkpointing), no saving.

Throughput is the tokens of the tokenized training set times the epochs,
over the wall time of ``trainer.train()`` (setup and saving excluded on both
sides). Sides alternate for ``--repeats`` rounds; the best time counts.
Usage: ``python bench/refinery_bench.py [--examples N] [--epochs E] [--repeats R] [--json]``.
Goal: ratio train_sft / plain >= 1.0.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL = 1.0


def _examples(n: int) -> list[dict[str, Any]]:
    import gym
    from gym.environments import example_path
    from refinery.pretrain import pretrain_examples

    return pretrain_examples(gym.load_environment(example_path("sums")), n)


def _ours(base: Path, examples: list[dict[str, Any]], out: Path, config: Any) -> tuple[int, float]:
    from refinery.train import train_sft

    result = train_sft(base, examples, out, config)
    return result.tokens, result.seconds


def _plain(base: Path, examples: list[dict[str, Any]], out: Path, config: Any) -> tuple[int, float]:
    from refinery.train import _import_ml

    datasets, torch, transformers, trl = _import_ml()  # typed Any, as in refinery.train
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
        train_dataset=datasets.Dataset.from_list(examples),
        processing_class=transformers.AutoTokenizer.from_pretrained(base),
    )
    trainer.remove_callback(transformers.PrinterCallback)
    tokens = sum(len(ids) for ids in trainer.train_dataset["input_ids"]) * config.epochs
    started = time.perf_counter()
    trainer.train()
    return tokens, time.perf_counter() - started


def main() -> int:
    """Run the bench and print the ratio (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    from policy.tiny import build_tiny_model
    from refinery.config import TrainConfig
    from refinery.train import _import_ml

    _import_ml()  # quiet progress bars and logs for both sides
    config = TrainConfig(epochs=args.epochs, batch_size=16, max_length=256)
    examples = _examples(args.examples)
    best: dict[str, tuple[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = build_tiny_model(Path(tmp) / "base")
        for repeat in range(args.repeats):
            for name, run in (("train_sft", _ours), ("plain TRL", _plain)):
                tokens, seconds = run(base, examples, Path(tmp) / f"{name}-{repeat}", config)
                if name not in best or seconds < best[name][1]:
                    best[name] = (tokens, seconds)
    rates = {name: tokens / seconds for name, (tokens, seconds) in best.items()}
    ratio = rates["train_sft"] / rates["plain TRL"]
    report = {
        "examples": args.examples,
        "epochs": args.epochs,
        "tokens": {name: tokens for name, (tokens, _) in best.items()},
        "tokens_per_s": rates,
        "ratio": ratio,
        "goal": GOAL,
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{'side':<12}{'tokens':>9}{'seconds':>9}{'tokens/s':>11}")
    for name, (tokens, seconds) in best.items():
        print(f"{name:<12}{tokens:>9}{seconds:>9.2f}{rates[name]:>11.0f}")
    print(f"ratio train_sft / plain TRL: {ratio:.2f} (goal >= {GOAL})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
