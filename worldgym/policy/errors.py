"""Errors of the model backends.

Tree::

    WorldGymError
    └── PolicyError              a model cannot be loaded, run or found
        ├── BackendUnavailableError  the chosen backend's packages are not installed
        └── CheckpointError      a checkpoint manifest or file is missing, corrupt or unsafe
"""

from __future__ import annotations

from worldgym.core.errors import WorldGymError

__all__ = ["BackendUnavailableError", "CheckpointError", "PolicyError"]


class PolicyError(WorldGymError):
    """A model cannot be loaded, run or found."""


class BackendUnavailableError(PolicyError, ImportError):
    """The chosen backend needs packages that are not installed (the message says which extra)."""


class CheckpointError(PolicyError, ValueError):
    """A checkpoint manifest or one of its files is missing, corrupt or unsafe."""
