"""Gym throughput: tasks derived + verified per second, per example environment.

For every shipped example environment this measures, in the same run and on
the same tasks (completions alternate between the reference answer and a
wrong one):

* **gym**: ``env.task(seed, env_id, version, miner, i)`` (keccak derivation,
  generation) then ``env.score(task, completion)`` (extraction, verifier);
* **direct**: the same work written directly against the libraries: the task
  seed by ``keccak`` over the five ABI words, the reasoning-gym item from a
  dataset instance built once (``create_dataset(seed=s, size=1)[0]`` for the
  few datasets where the gym must do the same), ``reasoning_gym.utils.
  extract_answer`` and the dataset's ``score_answer`` (for the ``math`` and
  ``exact`` verifiers: ``math_verify.parse/verify`` and a lower-cased compare);
* **rg-only**: as *direct* but with the task seeds computed before the clock
  starts, i.e. reasoning-gym's generator and scorer alone (the strictest bar).

The code environment has no reasoning-gym equivalent; its baseline runs the
same hidden tests in a plain ``python -I -S`` subprocess without the sandbox,
so that ratio is the price of isolation.

Each side runs ``--repeats`` times, interleaved; the best time counts.
Usage: ``python bench/gym_bench.py [--tasks N] [--repeats R] [--json]``.
Goal: ratio gym / direct >= 0.8.
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

from eth_hash.auto import keccak

from worldgym import gym
from worldgym.gym.environment import Environment
from worldgym.gym.environments import example_names, example_path
from worldgym.gym.extract import code_block
from worldgym.gym.generators._rg_catalog import PER_TASK_INSTANCE
from worldgym.gym.spec import CompositeGenerator, ReasoningGymGenerator, leaf_generators
from worldgym.gym.task import Task
from worldgym.gym.verifiers.code import HARNESS

SEED = "0x" + "b0" * 32
MINER = "0x" + "c1" * 20
ENV_ID, VERSION = 1, 1
GOAL = 0.8
Runner = Callable[[], float]


def _completion(name: str, task: Task, right: bool) -> str:
    answer = str(task.answer) if right else "-987654"
    if name == "code":
        body = answer if right else "def f():\n    return 0\n"
        return f"```python\n{body}```"
    if name == "algebra":
        return f"The value is \\boxed{{{answer}}}."
    return f"Reasoning...\n<answer>{answer}</answer>"


def _gym(env: Environment, indices: range, completions: list[str]) -> Runner:
    def run() -> float:
        start = time.perf_counter()
        for i in indices:
            env.score(env.task(SEED, ENV_ID, VERSION, MINER, i), completions[i])
        return time.perf_counter() - start

    return run


def _scorer(kind: str) -> Callable[[Any, str | None, dict[str, Any]], float]:
    """How the direct baseline scores an extracted answer, per verifier kind."""
    if kind == "math":
        from math_verify import parse, verify

        return lambda _ds, answer, entry: float(verify(parse(entry["answer"]), parse(answer or "")))
    if kind == "exact":
        return lambda _ds, answer, entry: float((answer or "").lower() == entry["answer"].lower())
    return lambda ds, answer, entry: float(ds.score_answer(answer, entry))


def _direct(env: Environment, indices: range, completions: list[str], *, derive: bool) -> Runner:
    import reasoning_gym
    from reasoning_gym.utils import extract_answer

    generator = env.spec.generator
    leaves = [
        leaf for leaf in leaf_generators(generator) if isinstance(leaf, ReasoningGymGenerator)
    ]
    weights = (
        [p.weight for p in generator.parts] if isinstance(generator, CompositeGenerator) else [1.0]
    )
    cumulative = [sum(weights[: i + 1]) / sum(weights) for i in range(len(weights))]
    instances = [
        None
        if leaf.dataset in PER_TASK_INSTANCE
        else reasoning_gym.create_dataset(leaf.dataset, **leaf.config, seed=0, size=2**32)
        for leaf in leaves
    ]
    score = _scorer(env.spec.verifier.kind)
    head = bytes.fromhex(SEED[2:]) + ENV_ID.to_bytes(32, "big") + VERSION.to_bytes(32, "big")
    head += bytes(12) + bytes.fromhex(MINER[2:])
    seeds = [bytes(keccak(head + i.to_bytes(32, "big"))) for i in indices]

    def run() -> float:
        start = time.perf_counter()
        for i in indices:
            seed = bytes(keccak(head + i.to_bytes(32, "big"))) if derive else seeds[i]
            item, point = int.from_bytes(seed[:4], "big"), int.from_bytes(seed[4:12], "big") / 2**64
            part = next(
                k for k, bound in enumerate(cumulative) if point < bound or k == len(leaves) - 1
            )
            leaf, dataset = leaves[part], instances[part]
            if dataset is None:
                dataset = reasoning_gym.create_dataset(
                    leaf.dataset, **leaf.config, seed=item, size=1
                )
                entry = dataset[0]
            else:
                entry = dataset[item]
            score(dataset, extract_answer(completions[i]), entry)
        return time.perf_counter() - start

    return run


def _unsandboxed(references: list[Task], completions: list[str]) -> Runner:
    jobs = []
    for task, completion in zip(references, completions, strict=True):
        payload = json.dumps(
            {
                "code": code_block(completion) or "",
                "calls": [test["call"] for test in task.metadata["tests"]],
            }
        )
        jobs.append(f"import json\nSANDBOX_INPUT = json.loads({payload!r})\n{HARNESS}")

    def run() -> float:
        start = time.perf_counter()
        for program in jobs:
            command = [sys.executable, "-I", "-S", "-c", program]
            subprocess.run(command, capture_output=True, timeout=30, check=False)
        return time.perf_counter() - start

    return run


def measure(name: str, count: int, repeats: int) -> dict[str, Any]:
    """Rates of the gym path and its baselines on ``count`` tasks of example ``name``."""
    env = gym.load_environment(example_path(name))
    indices = range(count)
    references = env.tasks(SEED, ENV_ID, VERSION, MINER, indices)
    completions = [_completion(name, references[i], i % 2 == 0) for i in indices]
    runners: dict[str, Runner] = {"gym": _gym(env, indices, completions)}
    if name == "code":
        runners["direct"] = _unsandboxed(references, completions)
    else:
        runners["direct"] = _direct(env, indices, completions, derive=True)
        runners["rg_only"] = _direct(env, indices, completions, derive=False)
    best = dict.fromkeys(runners, float("inf"))
    for _ in range(repeats + 1):  # the first round warms caches and lazy imports
        for key, run in runners.items():
            best[key] = min(best[key], run())
    rates = {key: count / seconds for key, seconds in best.items()}
    row: dict[str, Any] = {"env": name, "verifier": env.spec.verifier.kind, "tasks": count}
    row.update({f"{key}_per_s": round(rate, 1) for key, rate in rates.items()})
    row["ratio"] = round(rates["gym"] / rates["direct"], 3)
    if "rg_only" in rates:
        row["ratio_rg_only"] = round(rates["gym"] / rates["rg_only"], 3)
    row["baseline"] = "plain subprocess, no sandbox" if name == "code" else "direct library calls"
    return row


def main() -> int:
    """Run the bench and print a table (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000, help="tasks per environment (code: /20)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--env", action="append", help="only these examples")
    args = parser.parse_args()
    rows = []
    for name in args.env or example_names():
        count = max(args.tasks // 20, 10) if name == "code" else args.tasks
        rows.append(measure(name, count, args.repeats))
    if args.json:
        print(
            json.dumps(
                {"python": platform.python_version(), "goal": GOAL, "results": rows}, indent=2
            )
        )
        return 0
    header = f"{'env':<11}{'verifier':<14}{'gym/s':>9}{'direct/s':>10}{'ratio':>7}"
    print(f"{header}{'rg-only/s':>11}{'ratio':>7}  baseline (goal: ratio >= {GOAL})")
    for r in rows:
        line = f"{r['env']:<11}{r['verifier']:<14}{r['gym_per_s']:>9}"
        line += f"{r['direct_per_s']:>10}{r['ratio']:>7}"
        extra = (
            f"{r['rg_only_per_s']:>11}{r['ratio_rg_only']:>7}" if "rg_only_per_s" in r else " " * 18
        )
        print(f"{line}{extra}  {r['baseline']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
