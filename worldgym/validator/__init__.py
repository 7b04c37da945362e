"""The validator: verify every batch, prove rollouts honest, commit-reveal, finalize, claim.

See :mod:`worldgym.validator.checks` (the scoring rules), :mod:`worldgym.validator.engine`
(fetching, environments, models), :mod:`worldgym.validator.state` (the durable
commit-reveal state) and :mod:`worldgym.validator.loop` (the loop).
"""

from __future__ import annotations

from worldgym.validator.checks import BatchContext, BatchVerdict, TraceResult, score_batch
from worldgym.validator.engine import BatchScorer, sample_seed_for
from worldgym.validator.errors import StateError, ValidatorError
from worldgym.validator.loop import Validator, ValidatorConfig
from worldgym.validator.state import EpochRecord, EpochState, ValidatorState

__all__ = [
    "BatchContext",
    "BatchScorer",
    "BatchVerdict",
    "EpochRecord",
    "EpochState",
    "StateError",
    "TraceResult",
    "Validator",
    "ValidatorConfig",
    "ValidatorError",
    "ValidatorState",
    "sample_seed_for",
    "score_batch",
]
