"""The verifier interface and what verifiers share (length caps, time limits)."""

from __future__ import annotations

from typing import Protocol

from worldgym.gym.task import Score, Task
from worldgym.gym.timeouts import VerifierTimeout, deadline, on_main_thread

__all__ = ["Verifier", "VerifierTimeout", "deadline", "on_main_thread", "too_long"]


class Verifier(Protocol):
    """Scores an extracted answer against a task; never raises because of the answer."""

    def __call__(self, task: Task, answer: str) -> Score:
        """The score of ``answer`` (already extracted from the completion) for ``task``."""
        ...


def too_long(answer: str, limit: int) -> Score | None:
    """A zero score if ``answer`` is longer than ``limit`` characters, else None."""
    if len(answer) > limit:
        return Score.zero(f"answer is {len(answer)} characters; the limit is {limit}")
    return None
