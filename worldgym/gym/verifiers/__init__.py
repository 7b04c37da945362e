"""Verifiers: each scores an extracted answer in [0, 1] with a reason.

Kinds (``verifier.kind`` in a spec): ``reasoning_gym`` (the dataset's own
scorer), ``math`` (math-verify equivalence), ``exact`` (optionally normalised),
``regex`` and ``python_tests`` (unit tests in the sandbox).
"""

from __future__ import annotations

from collections.abc import Callable

from worldgym.gym.generators import LeafSource
from worldgym.gym.spec import (
    ExactVerifier,
    MathVerifier,
    PythonTestsVerifier,
    ReasoningGymVerifier,
    RegexVerifier,
)
from worldgym.gym.spec import (
    Verifier as VerifierSpec,
)
from worldgym.gym.verifiers.base import Verifier
from worldgym.gym.verifiers.code import PythonTests
from worldgym.gym.verifiers.match import ExactMatch, RegexMatch
from worldgym.gym.verifiers.math_equiv import MathEquivalence
from worldgym.gym.verifiers.rg_scorer import ReasoningGymScorer

__all__ = [
    "ExactMatch",
    "MathEquivalence",
    "PythonTests",
    "ReasoningGymScorer",
    "RegexMatch",
    "Verifier",
    "make_verifier",
]


def make_verifier(spec: VerifierSpec, leaf: Callable[[str], LeafSource | None]) -> Verifier:
    """The verifier a spec's ``verifier`` section describes; ``leaf`` finds a task's source."""
    if isinstance(spec, ReasoningGymVerifier):
        return ReasoningGymScorer(spec, leaf)
    if isinstance(spec, MathVerifier):
        return MathEquivalence(spec)
    if isinstance(spec, ExactVerifier):
        return ExactMatch(spec)
    if isinstance(spec, RegexVerifier):
        return RegexMatch(spec)
    if isinstance(spec, PythonTestsVerifier):
        return PythonTests(spec)
    raise TypeError(f"unknown verifier kind {spec!r}")  # unreachable: the spec union is closed
