"""Exceptions raised by the gym (environment specs, tasks, verifiers, sandbox).

Scoring a completion never raises: a bad completion is a score of 0 with a
reason. These exceptions are for bad *inputs from the operator or the spec
author* (a spec that cannot be loaded, a seed that is not 32 bytes) and for a
machine that cannot run the sandbox at all.

Tree (this module)::

    WorldGymError                       (worldgym.core.errors)
    └── GymError
        ├── SpecError                   a spec is malformed or unknown (ValueError)
        │   ├── NotReproducibleError    this machine cannot reproduce the spec's tasks
        │   │                           (a pinned version differs, a dataset is unusable)
        │   └── EnvironmentRefusedError well formed, but its verifier pays for degenerate
        │                               answers or ignores the reference (worldgym.gym.audit)
        ├── DerivationError             a task-derivation input is out of range (ValueError)
        ├── GenerationError             a generator failed to make a task (RuntimeError)
        └── SandboxError                the sandbox itself could not be started (RuntimeError)
"""

from __future__ import annotations

from worldgym.core.errors import WorldGymError

__all__ = [
    "DerivationError",
    "EnvironmentRefusedError",
    "GenerationError",
    "GymError",
    "NotReproducibleError",
    "SandboxError",
    "SpecError",
]


class GymError(WorldGymError):
    """Base class of every error the gym raises on purpose."""


class SpecError(GymError, ValueError):
    """An environment spec is malformed, has unknown fields or kinds; the message says which."""


class NotReproducibleError(SpecError):
    """The spec is well formed but this machine cannot reproduce its tasks exactly.

    Raised when a pinned generator version differs from the installed one, or the
    dataset is known not to be deterministic across machines. The message names
    both versions (or the reason) and what to do.
    """


class EnvironmentRefusedError(SpecError):
    """The spec is valid, but registration refuses it; the message says which answers it pays.

    Raised by :func:`worldgym.gym.audit.check_registrable` (registration, ``env validate``)
    when the verifier ignores the reference answer, cannot recognise it, or
    gives credit to degenerate answers.
    """


class DerivationError(GymError, ValueError):
    """A task-derivation input (seed, env id, version, miner address, index) is invalid."""


class GenerationError(GymError, RuntimeError):
    """A generator failed to make the task for a seed (a dataset bug or limit, not bad input)."""


class SandboxError(GymError, RuntimeError):
    """The sandbox could not be started (not: the code inside it failed, which is a score of 0)."""
