"""Validator throughput: the full pipeline against a plain reasoning-gym loop on the same traces.

* **validator**: for each batch of an epoch, fetch it from the embedded store
  (every block verified against its CID), parse and validate the document,
  check the header against the on-chain record, derive every task from the
  seed (keccak + reasoning-gym), check each prompt and declared answer, and
  score each trace with the environment's verifier
  (:func:`worldgym.validator.checks.score_batch`, proof of rollout off: see below);
* **plain loop**: reasoning-gym alone on the same traces: for each task the
  same keccak task seed, ``dataset[item]`` from a dataset built once, then
  ``extract_answer`` + ``score_answer`` for each of its traces.

The proof of rollout is measured on its own (one forward pass of the declared
model per sampled trace; 4 samples per batch by default) since it has no
reasoning-gym counterpart. Usage: ``python bench/validator_bench.py [--traces
N] [--per-batch N] [--json]; the group size is the spec's``. Goal: validator / plain >= 0.8.
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

import reasoning_gym
from reasoning_gym.utils import extract_answer

from worldgym.chain.contracts import BatchRecord
from worldgym.core.schemas import (
    BatchDocument,
    BatchHeader,
    Message,
    ModelRef,
    Trace,
    encode_batch,
    task_index,
)
from worldgym.gym import Environment, load_environment
from worldgym.gym.derive import item_seed, task_seed
from worldgym.gym.environment import load_spec
from worldgym.gym.environments import example_path
from worldgym.miner.build import spec_sampling
from worldgym.storage import StoreSettings, cid_from_bytes, cid_to_bytes, open_store
from worldgym.validator.checks import BatchContext, score_batch

MINER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
SEED = bytes(range(32))
DIGEST = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


def _batch(env: Environment, sequence: int, tasks: int, group: int) -> BatchDocument:
    traces = []
    for i in range(tasks):
        task = env.task(SEED, 1, 1, MINER, task_index(sequence, i))
        prompt = [Message.model_validate(m) for m in env.prompt(task)]
        for j in range(group):  # half right, half wrong
            text = f"Thinking... <answer>{task.answer if j % 2 == 0 else 'nope'}</answer>"
            traces.append(
                Trace(
                    task=i,
                    sample=j,
                    prompt=prompt,
                    completion=text,
                    answer=env.extract(text),
                    tokens=[1, 2, 3],
                    logprobs=[-0.1, -0.2, -0.3],
                )
            )
    header = BatchHeader(
        schema="worldgym.batch/2", chain_id=31337, contract=CONTRACT, epoch=5, miner=MINER,
        env_id=1, env_version=1, sequence=sequence, model=ModelRef(id=1, digest=DIGEST),
        sampling=spec_sampling(env.spec),
        task_count=tasks, group_size=group,
    )  # fmt: skip
    return BatchDocument(header=header, traces=traces)


def main() -> None:
    """Run the benchmark and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--traces", type=int, default=10_000)
    parser.add_argument("--per-batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--env",
        default="arithmetic",
        help="example environment with a reasoning-gym generator and <answer> tags "
        "(arithmetic, sums, logic, puzzle, words)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    env = load_environment(load_spec(example_path(args.env)))
    group = env.spec.group_size
    tasks = args.per_batch // group
    batches = max(1, args.traces // args.per_batch)

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(StoreSettings(path=Path(tmp) / "store"))
        records = []
        for s in range(batches):
            data = encode_batch(_batch(env, s, tasks, group))
            cid = store.put_bytes(data)
            records.append(
                BatchRecord(5, s, MINER, 1, 1, s, tasks * group, 1, cid_to_bytes(cid), 0, "")
            )

        leaf = env.spec.generator
        dataset = reasoning_gym.create_dataset(leaf.dataset, **leaf.config, seed=0, size=2**32)  # type: ignore[union-attr]
        completions = [
            f"Thinking... <answer>{'x' if j % 2 else 'y'}</answer>" for j in range(group)
        ]

        def validator_pass() -> tuple[float, int]:
            started, total = time.perf_counter(), 0
            for record in records:
                ctx = BatchContext(
                    record=record, validator=MINER, chain_id=31337, contract=CONTRACT, seed=SEED,
                    checkpoint_cid=DIGEST, environment=lambda _e, _v: env, rollout=None,
                    sample_seed=SEED,
                )  # fmt: skip
                verdict = score_batch(store.get_bytes(cid_from_bytes(record.cid)), ctx)
                assert not verdict.rejected, verdict.reason
                total += len(verdict.traces)
            return time.perf_counter() - started, total

        def plain_pass() -> float:
            started = time.perf_counter()
            for s in range(batches):
                for i in range(tasks):
                    seed = task_seed(SEED, 1, 1, MINER, task_index(s, i))
                    entry = dataset[item_seed(seed)]
                    for text in completions:
                        dataset.score_answer(extract_answer(text), entry)
            return time.perf_counter() - started

        validator_s = plain_s = float("inf")
        for _ in range(args.repeats):  # interleaved, best of each
            seconds, total = validator_pass()
            validator_s = min(validator_s, seconds)
            plain_s = min(plain_s, plain_pass())

    result: dict[str, Any] = {
        "env": args.env,
        "traces": total,
        "batches": batches,
        "validator_traces_per_s": total / validator_s,
        "plain_traces_per_s": total / plain_s,
        "epoch_seconds": validator_s,
    }
    result["ratio"] = result["validator_traces_per_s"] / result["plain_traces_per_s"]
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.env}: {total} traces in {batches} batches of {tasks} tasks x {group} samples")
    print(f"  validator pipeline {result['validator_traces_per_s']:9.0f} traces/s")
    print(f"  plain rg loop      {result['plain_traces_per_s']:9.0f} traces/s")
    print(
        f"  ratio {result['ratio']:.2f} (goal >= 0.8); the epoch took {validator_s:.1f} s to score"
    )


if __name__ == "__main__":
    main()
