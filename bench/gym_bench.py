"""Gym throughput: tasks derived + verified per second, per example environment.

For every shipped example environment this measures, in the same run and on
the same tasks:

* **gym**: ``env.task(seed, env_id, version, miner, i)`` (keccak derivation,
  generation) then ``env.score(task, completion)`` (extraction, verifier);
* **baseline**: reasoning-gym called directly on the same items: item
  ``s = item_seed(task_seed)`` of a dataset instance built once (or
  ``create_dataset(seed=s, size=1)[0]`` where the gym must do the same), then
  ``reasoning_gym.utils.extract_answer`` and the dataset's ``score_answer``.
  The task seeds are computed before the clock starts, so the baseline gets
  derivation for free.

For the code environment there is no reasoning-gym equivalent; its baseline is
the same hidden tests run by a plain ``python -I -S`` subprocess without the
sandbox, so the ratio is the price of isolation.

Completions alternate between the reference answer and a wrong one. Each side
runs ``--repeats`` times, interleaved, and the best time counts.

Usage: ``python bench/gym_bench.py [--tasks N] [--repeats R] [--json]``; goal:
ratio (gym / baseline) >= 0.8 for the reasoning-gym environments.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gym  # noqa: E402
from gym.derive import item_seed, pick_weighted, task_seed  # noqa: E402
from gym.environment import Environment  # noqa: E402
from gym.environments import example_names, example_path  # noqa: E402
from gym.generators._rg_catalog import PER_TASK_INSTANCE  # noqa: E402
from gym.spec import CompositeGenerator, ReasoningGymGenerator, leaf_generators  # noqa: E402
from gym.task import Task  # noqa: E402
from gym.verifiers.code import HARNESS  # noqa: E402

SEED = "0x" + "b0" * 32
MINER = "0x" + "c1" * 20
ENV_ID, VERSION = 1, 1
GOAL = 0.8


def _completion(name: str, task: Task, right: bool) -> str:
    answer = str(task.answer) if right else "-987654"
    if name == "code":
        body = answer if right else "def f():\n    return 0\n"
        return f"```python\n{body}```"
    if name == "algebra":
        return f"The value is \\boxed{{{answer}}}."
    return f"Reasoning...\n<answer>{answer}</answer>"


def _gym_run(env: Environment, name: str, indices: range, references: list[Task]) -> float:
    completions = [_completion(name, references[i], i % 2 == 0) for i in indices]
    start = time.perf_counter()
    for i in indices:
        task = env.task(SEED, ENV_ID, VERSION, MINER, i)
        env.score(task, completions[i])
    return time.perf_counter() - start


def _rg_baseline(env: Environment, name: str, indices: range,
                 references: list[Task]) -> Callable[[], float]:  # fmt: skip
    import reasoning_gym  # noqa: PLC0415
    from reasoning_gym.utils import extract_answer  # noqa: PLC0415

    leaves = [leaf for leaf in leaf_generators(env.spec.generator) if isinstance(leaf, ReasoningGymGenerator)]
    weights = (
        [part.weight for part in env.spec.generator.parts]
        if isinstance(env.spec.generator, CompositeGenerator)
        else [1.0]
    )
    instances = [
        reasoning_gym.create_dataset(leaf.dataset, **leaf.config, seed=0, size=2**32)
        if leaf.dataset not in PER_TASK_INSTANCE
        else None
        for leaf in leaves
    ]
    seeds = [task_seed(SEED, ENV_ID, VERSION, MINER, i) for i in indices]
    parts = [pick_weighted(seed, weights) if len(leaves) > 1 else 0 for seed in seeds]
    items = [item_seed(seed) for seed in seeds]
    completions = [_completion(name, references[i], i % 2 == 0) for i in indices]

    def run() -> float:
        start = time.perf_counter()
        for i in indices:
            leaf, instance = leaves[parts[i]], instances[parts[i]]
            if instance is None:
                instance = reasoning_gym.create_dataset(leaf.dataset, **leaf.config, seed=items[i], size=1)
                entry = instance[0]
            else:
                entry = instance[items[i]]
            instance.score_answer(extract_answer(completions[i]), entry)
        return time.perf_counter() - start

    return run


def _code_baseline(name: str, indices: range, references: list[Task]) -> Callable[[], float]:
    from gym.extract import code_block  # noqa: PLC0415

    jobs = []
    for i in indices:
        code = code_block(_completion(name, references[i], i % 2 == 0)) or ""
        calls = [test["call"] for test in references[i].metadata["tests"]]
        payload = json.dumps({"code": code, "calls": calls})
        jobs.append(f"import json\nSANDBOX_INPUT = json.loads({payload!r})\n{HARNESS}")

    def run() -> float:
        start = time.perf_counter()
        for program in jobs:
            subprocess.run(  # noqa: S603 - the unsandboxed baseline, on our own reference code
                [sys.executable, "-I", "-S", "-c", program], capture_output=True, timeout=30, check=False
            )
        return time.perf_counter() - start

    return run


def measure(name: str, count: int, repeats: int) -> dict[str, Any]:
    """Rates of the gym path and its baseline on ``count`` tasks of example ``name``."""
    env = gym.load_environment(example_path(name))
    indices = range(count)
    references = env.tasks(SEED, ENV_ID, VERSION, MINER, indices)
    _gym_run(env, name, range(min(count, 20)), references)  # warm caches and lazy imports
    baseline = (_code_baseline if name == "code" else lambda n, i, r: _rg_baseline(env, n, i, r))(
        name, indices, references
    )
    baseline()
    gym_times, base_times = [], []
    for _ in range(repeats):
        gym_times.append(_gym_run(env, name, indices, references))
        base_times.append(baseline())
    gym_rate, base_rate = count / min(gym_times), count / min(base_times)
    return {
        "env": name,
        "verifier": env.spec.verifier.kind,
        "tasks": count,
        "gym_per_s": round(gym_rate, 1),
        "baseline_per_s": round(base_rate, 1),
        "baseline": "plain subprocess, no sandbox" if name == "code" else "reasoning-gym direct",
        "ratio": round(gym_rate / base_rate, 3),
    }


def main() -> int:
    """Run the bench and print a table (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=400, help="tasks per environment (code: /10)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--env", action="append", help="only these examples")
    args = parser.parse_args()
    rows = []
    for name in args.env or example_names():
        count = max(args.tasks // 10, 10) if name == "code" else args.tasks
        rows.append(measure(name, count, args.repeats))
    if args.json:
        print(json.dumps({"python": platform.python_version(), "results": rows}, indent=2))
        return 0
    print(f"{'env':<11} {'verifier':<14} {'gym/s':>9} {'baseline/s':>11} {'ratio':>7}  baseline")
    for row in rows:
        print(f"{row['env']:<11} {row['verifier']:<14} {row['gym_per_s']:>9} "
              f"{row['baseline_per_s']:>11} {row['ratio']:>7}  {row['baseline']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
