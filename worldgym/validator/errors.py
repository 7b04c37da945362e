"""Errors of the validator.

Tree::

    WorldGymError
    └── ValidatorError        the validator cannot go on (the message says what to do)
        └── StateError        the local commit-reveal state is unreadable or inconsistent

A bad *batch* is never an exception: it gets a score of 0 and a reason
(:class:`worldgym.validator.checks.BatchVerdict`).
"""

from __future__ import annotations

from worldgym.core.errors import WorldGymError

__all__ = ["StateError", "ValidatorError"]


class ValidatorError(WorldGymError):
    """The validator cannot go on; the message says what to do."""


class StateError(ValidatorError):
    """The local commit-reveal state is unreadable or inconsistent."""
