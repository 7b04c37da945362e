"""The validator: verify every batch, prove rollouts honest, commit-reveal, finalize, claim.

See :mod:`validator.checks` (the scoring rules), :mod:`validator.engine`
(fetching, environments, models), :mod:`validator.state` (the durable
commit-reveal state) and :mod:`validator.loop` (the loop).
"""

from __future__ import annotations

from validator.checks import BatchContext, BatchVerdict, TraceResult, score_batch
from validator.engine import BatchScorer, sample_seed_for
from validator.errors import StateError, ValidatorError
from validator.loop import Validator, ValidatorConfig
from validator.state import EpochRecord, EpochState, ValidatorState

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
