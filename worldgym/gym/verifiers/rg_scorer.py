"""reasoning-gym's own scorer for the dataset a task came from."""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import nullcontext

from worldgym.gym.generators import LeafSource, ReasoningGymSource
from worldgym.gym.spec import ReasoningGymVerifier
from worldgym.gym.task import Score, Task
from worldgym.gym.verifiers.base import VerifierTimeout, deadline, too_long

__all__ = ["SCORER_TIMEOUT_S", "ReasoningGymScorer"]

SCORER_TIMEOUT_S = 5.0


class ReasoningGymScorer:
    """Calls ``score_answer`` of the task's dataset (behind the guards of ``_rg_guards``)."""

    def __init__(
        self, spec: ReasoningGymVerifier, leaf: Callable[[str], LeafSource | None]
    ) -> None:
        self.spec = spec
        self._leaf = leaf

    def __call__(self, task: Task, answer: str) -> Score:
        """reasoning-gym's score, clamped to [0, 1]; 0 with the reason if the scorer fails."""
        source = self._leaf(task.source)
        if not isinstance(source, ReasoningGymSource):
            return Score.zero(f"task source {task.source!r} is not a reasoning-gym dataset")
        refused = too_long(answer, self.spec.max_answer_chars)
        if refused is not None:
            return refused
        try:
            # a pinned-hash dataset is scored in a child with its own time limit
            with nullcontext() if source.pinned else deadline(SCORER_TIMEOUT_S):
                value, why_not = source.score_answer(answer, task)
        except VerifierTimeout:
            return Score.zero(f"reasoning-gym's scorer ran longer than {SCORER_TIMEOUT_S} s")
        except RecursionError:
            return Score.zero("reasoning-gym's scorer recursed too deeply on this answer")
        except Exception as exc:
            return Score.zero(f"reasoning-gym's scorer rejected the answer ({type(exc).__name__})")
        if why_not is not None:
            return Score.zero(why_not)
        if math.isnan(value):
            return Score.zero("reasoning-gym's scorer returned NaN")
        clamped = min(max(value, 0.0), 1.0)
        return Score(clamped, f"reasoning-gym {source.dataset} scorer: {clamped:g}")
