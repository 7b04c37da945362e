"""Models behind one interface: sampling with log-probabilities, scoring, checkpoints.

The public surface::

    policy = load_policy("transformers", model_dir)              # or "vllm", "openai"
    groups = policy.generate(prompts, n=4, sampling=sampling)     # list[list[Completion]]
    logprobs = policy.score([(prompt, tokens)])                   # teacher-forced, T = 1
    handle = resolve_model(protocol, store, cache_dir, None)      # latest registered model

``worldgym.policy.rollout.check_rollout`` is the validator's proof-of-rollout test;
``worldgym.policy.tiny.build_tiny_model`` makes a small local model for tests and demos.
Heavy packages (torch, transformers, vllm) are imported only when a backend is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from worldgym.policy.backends import BACKENDS, Backend, load_policy
from worldgym.policy.base import Completion, Messages, Policy
from worldgym.policy.errors import BackendUnavailableError, CheckpointError, PolicyError

if TYPE_CHECKING:
    from worldgym.policy.hf import TransformersPolicy

__all__ = [
    "BACKENDS",
    "Backend",
    "BackendUnavailableError",
    "CheckpointError",
    "Completion",
    "Messages",
    "Policy",
    "PolicyError",
    "TransformersPolicy",
    "load_policy",
]


def __getattr__(name: str) -> Any:
    if name == "TransformersPolicy":
        from worldgym.policy.hf import TransformersPolicy

        return TransformersPolicy
    raise AttributeError(f"module 'worldgym.policy' has no attribute {name!r}")
