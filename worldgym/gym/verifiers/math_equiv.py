"""Mathematical equivalence with the reference answer, by math-verify.

Both sides are parsed by ``math_verify.parse`` (LaTeX, then plain expressions;
text without ``$`` or ``\\boxed`` is wrapped in ``$...$`` first so that ``2x+1``
reads as an expression) and compared by ``math_verify.verify``. math-verify
bounds its own work with SIGALRM, which only works on the main thread; off it,
the length cap and :func:`_tower` (no numeric power towers like ``9^9^9``) are
what keep a crafted answer from stalling the validator.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from worldgym.gym.spec import MathVerifier
from worldgym.gym.task import Score, Task
from worldgym.gym.timeouts import alarm_used
from worldgym.gym.verifiers.base import on_main_thread, too_long

__all__ = ["MathEquivalence"]

_TIMEOUT_S = 3
_POWER = r"(?:\^|\*\*)"
_TOWER = re.compile(
    rf"[\d}}]\s*{_POWER}\s*[{{(]?\s*[\d.]+\s*[}})]?\s*{_POWER}|\d\s*{_POWER}\s*[{{(]?\s*\d{{4,}}"
)


def _tower(answer: str) -> bool:
    """True for power towers and huge exponents (``9^9^9``, ``10**10000``), which hang sympy."""
    return _TOWER.search(answer) is not None


def _parse(text: str) -> list[Any]:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    config = [LatexExtractionConfig(), ExprExtractionConfig()]
    timeout = _TIMEOUT_S if on_main_thread() else None
    delimited = "$" in text or "\\boxed" in text
    parsed: list[Any] = parse(
        text if delimited else f"${text}$", extraction_config=config, parsing_timeout=timeout
    )
    if not parsed and not delimited:
        parsed = parse(text, extraction_config=config, parsing_timeout=timeout)
    return parsed


@lru_cache(maxsize=4096)
def _parse_reference(reference: str) -> list[Any]:
    return _parse(reference)


class MathEquivalence:
    """Score 1 when math-verify finds the answer equivalent to the reference."""

    def __init__(self, spec: MathVerifier) -> None:
        self.spec = spec

    def __call__(self, task: Task, answer: str) -> Score:
        """1 when equivalent, else 0 with the reason."""
        if task.answer is None:
            return Score.zero("this task has no reference answer to compare with")
        refused = too_long(answer, self.spec.max_answer_chars)
        if refused is not None:
            return refused
        if _tower(answer):
            return Score.zero("answer contains a power tower or a huge exponent; refused")
        try:
            return self._verify(task.answer, answer)
        finally:
            alarm_used()  # math-verify's own timeouts use alarm(), which stops our deadline ticks

    def _verify(self, reference: str, answer: str) -> Score:
        from math_verify import verify

        gold = _parse_reference(reference)
        if not gold:
            return Score.zero("the reference answer could not be parsed as mathematics")
        predicted = _parse(answer)
        if not predicted:
            return Score.zero("the answer could not be parsed as mathematics")
        timeout = _TIMEOUT_S if on_main_thread() else None
        if verify(
            gold, predicted, float_rounding=self.spec.float_rounding, timeout_seconds=timeout
        ):
            return Score(1.0, "mathematically equivalent to the reference")
        return Score.zero("not equivalent to the reference")
