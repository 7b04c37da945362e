"""WorldGym's gym: environment specs, deterministic tasks, verifiers and the sandbox.

The public surface::

    spec = gym.load_spec("arithmetic.yaml")        # worldgym.env/1, validated
    env = gym.load_environment(spec)
    task = env.task(seed, env_id, version, miner, index)
    messages = env.prompt(task)
    score = env.score(task, completion)             # Score(value in [0, 1], reason)

See worldgym/gym/README.md for the spec format, the derivation and the sandbox.
"""

from __future__ import annotations

from worldgym.gym.derive import task_seed
from worldgym.gym.environment import Environment, load_environment, load_spec
from worldgym.gym.errors import (
    DerivationError,
    GymError,
    NotReproducibleError,
    SandboxError,
    SpecError,
)
from worldgym.gym.spec import SCHEMA_ID, EnvSpec, json_schema
from worldgym.gym.task import Score, Task

__all__ = [
    "SCHEMA_ID",
    "DerivationError",
    "EnvSpec",
    "Environment",
    "GymError",
    "NotReproducibleError",
    "SandboxError",
    "Score",
    "SpecError",
    "Task",
    "json_schema",
    "load_environment",
    "load_spec",
    "task_seed",
]
