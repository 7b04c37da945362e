"""The values that flow through an environment: tasks and scores."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Score", "Task", "jsonable"]


@dataclass(frozen=True, slots=True)
class Task:
    """One derived task.

    Attributes:
        index: the miner-chosen uint256 index the task was derived for.
        task_seed: the 32-byte task seed (see :func:`worldgym.gym.derive.task_seed`).
        question: the problem text that goes into the prompt.
        answer: the reference answer (for code tasks, a reference solution); None if there is none.
        metadata: what the generator knows about the task (the verifier may use it).
        source: which generator made it, e.g. ``reasoning_gym/chain_sum``
            (``<part>:...`` inside a composite).
    """

    index: int
    task_seed: bytes
    question: str
    answer: str | None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    def to_json(self, *, with_answer: bool = False) -> dict[str, Any]:
        """A JSON-ready dict; the answer and the metadata (which can reveal it) only on request."""
        out: dict[str, Any] = {
            "index": str(self.index),
            "task_seed": "0x" + self.task_seed.hex(),
            "source": self.source,
            "question": self.question,
        }
        if with_answer:
            out["answer"] = self.answer
            out["metadata"] = jsonable(self.metadata)
        return out


@dataclass(frozen=True, slots=True)
class Score:
    """A verifier's verdict: ``value`` in [0, 1] and a reason a miner can read."""

    value: float
    reason: str

    def __post_init__(self) -> None:
        if not (isinstance(self.value, int | float) and math.isfinite(self.value)):
            raise ValueError(f"a score must be a finite number, got {self.value!r}")
        if not 0.0 <= self.value <= 1.0:
            raise ValueError(f"a score must lie in [0, 1], got {self.value}")

    @classmethod
    def zero(cls, reason: str) -> Score:
        """A score of 0 with ``reason``."""
        return cls(0.0, reason)

    def to_json(self) -> dict[str, Any]:
        """``{"score": value, "reason": reason}``."""
        return {"score": self.value, "reason": self.reason}


def jsonable(value: Any) -> Any:
    """``value`` with tuples, sets and other non-JSON leaves turned into JSON-safe ones."""
    try:
        return json.loads(json.dumps(value, default=_fallback, allow_nan=False))
    except ValueError:
        return json.loads(json.dumps(value, default=_fallback))


def _fallback(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value)
