"""Errors of the refinery (training, evaluation and the expert-iteration loop).

Tree::

    WorldGymError                  (worldgym.core.errors)
    └── RefineryError              the refinery cannot train, evaluate or publish
        ├── TrainConfigError       a training or evaluation setting is invalid (says what to change)
        └── TrainingError          a training run failed or had nothing to train on
"""

from __future__ import annotations

from worldgym.core.errors import WorldGymError

__all__ = ["RefineryError", "TrainConfigError", "TrainingError"]


class RefineryError(WorldGymError):
    """The refinery cannot train, evaluate or publish a model."""


class TrainConfigError(RefineryError, ValueError):
    """A training or evaluation setting is invalid; the message says what to change."""


class TrainingError(RefineryError, RuntimeError):
    """A training run failed, or there was nothing to train on."""
