"""Exact, normalised and regular-expression matching against the reference answer."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from worldgym.gym.regexes import (
    ANSWER_PLACEHOLDER,
    RUN_TIMEOUT_S,
    RegexTimeoutError,
    compile_pattern,
    full_match,
)
from worldgym.gym.spec import ExactVerifier, RegexVerifier
from worldgym.gym.task import Score, Task
from worldgym.gym.verifiers.base import too_long

__all__ = ["ExactMatch", "RegexMatch", "normalize"]

_SPACES = re.compile(r"\s+")
_WRAPPERS = re.compile(r"^\\text\{(.*)\}$|^\$(.*)\$$", re.DOTALL)


def normalize(text: str) -> str:
    """NFKC, case-folded, single spaces, no surrounding ``$`` or ``\\text{}``, no final period."""
    text = unicodedata.normalize("NFKC", text).strip()
    match = _WRAPPERS.match(text)
    if match:
        text = next(group for group in match.groups() if group is not None)
    text = _SPACES.sub(" ", text.casefold()).strip()
    return text[:-1].rstrip() if text.endswith(".") else text


_normalized_reference = lru_cache(maxsize=4096)(normalize)


def _reference(task: Task) -> str | Score:
    if task.answer is None:
        return Score.zero("this task has no reference answer to compare with")
    return task.answer


class ExactMatch:
    """Score 1 when the answer equals the reference (after :func:`normalize` if enabled)."""

    def __init__(self, spec: ExactVerifier) -> None:
        self.spec = spec

    def __call__(self, task: Task, answer: str) -> Score:
        """1 on a match, else 0."""
        reference = _reference(task)
        if isinstance(reference, Score):
            return reference
        refused = too_long(answer, self.spec.max_answer_chars)
        if refused is not None:
            return refused
        if self.spec.normalize:
            same = normalize(answer) == _normalized_reference(reference)
        else:
            same = answer == reference
        return (
            Score(1.0, "matches the reference")
            if same
            else Score.zero("does not match the reference")
        )


class RegexMatch:
    """Score 1 when the whole answer matches the pattern (``{answer}`` = the escaped reference)."""

    def __init__(self, spec: RegexVerifier) -> None:
        self.spec = spec
        self.uses_reference = ANSWER_PLACEHOLDER in spec.pattern

    def __call__(self, task: Task, answer: str) -> Score:
        """1 on a full match, else 0."""
        reference = ""
        if self.uses_reference:
            checked = _reference(task)
            if isinstance(checked, Score):
                return checked
            reference = checked
        refused = too_long(answer, self.spec.max_answer_chars)
        if refused is not None:
            return refused
        pattern = compile_pattern(
            self.spec.pattern, reference, ignore_case=self.spec.ignore_case, dotall=False
        )
        try:
            matched = full_match(pattern, answer.strip())
        except RegexTimeoutError:
            return Score.zero(f"matching took longer than {RUN_TIMEOUT_S:g} s")
        if matched:
            return Score(1.0, "matches the pattern")
        return Score.zero("does not match the pattern")
