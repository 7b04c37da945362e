"""Golden task digests of the examples (test_gym_derive; also run in a fresh interpreter)."""

from __future__ import annotations

import hashlib
import json

from worldgym import gym
from worldgym.gym.environments import example_names, example_path

SEED = "0x" + "5e" * 32
MINER = "0x00000000000000000000000000000000DeaDBeef"


def digests(names: list[str] | None = None) -> dict[str, list[str]]:
    """sha256([source, question, answer])[:16] of tasks 0..2 of each example (default: all)."""
    out = {}
    for name in names or example_names():
        env = gym.load_environment(example_path(name))
        row = []
        for index in range(3):
            task = env.task(SEED, 1, 1, MINER, index)
            blob = json.dumps([task.source, task.question, task.answer], ensure_ascii=False)
            row.append(hashlib.sha256(blob.encode()).hexdigest()[:16])
        out[name] = row
    return out
