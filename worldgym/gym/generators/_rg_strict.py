"""Stricter scoring than reasoning-gym 0.1.25's own, where its scorer pays for degenerate answers.

``bench/degenerate_audit.py`` scores answers that need no reasoning (constants,
the question copied, a blank grid filled with 1, another task's answer, a
premise restated, ...) on a few hundred tasks of every dataset; worldgym/gym/README.md
has the table. Where one earned more than 0.05 on tasks it got wrong, the gym
scores that dataset more strictly:

* :data:`ALL_OR_NOTHING`: only reasoning-gym's full score counts; anything less
  is 0. Partial credit there was paid for junk: substring matches in the base
  scorer (``"24"`` contains ``"2"``), cells a filled-in grid gets right by
  chance, a knight/knave assignment half right, distance-based credit, small
  "format" rewards. A group of samples still disagrees when one is right.
* :data:`CHECKS`: a rule the answer must meet before reasoning-gym sees it, for
  scorers that give *full* marks to a degenerate answer (``1*2*3*4`` for any
  24 puzzle, a premise restated as the conclusion, any string for halting).
* :data:`REFUSED`: datasets registration refuses (:mod:`worldgym.gym.audit`), where no
  rule can tell reasoning from copying.

:func:`strict_refusal` and :func:`strict_value` apply them; every refusal
says why. ``tests/gym/test_gym_strict.py`` pins each case.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

__all__ = ["ALL_OR_NOTHING", "CHECKS", "REFUSED", "strict_refusal", "strict_value"]

#: datasets that keep ProceduralDataset.score_answer (substring partial credit)
_BASE_SCORER = (
    "acre", "aiw", "arc_1d", "base_conversion", "basic_arithmetic", "bf", "binary_alternation",
    "caesar_cipher", "count_bits", "count_primes", "course_schedule", "gcd", "isomorphic_strings",
    "largest_island", "lcm", "leg_counting", "letter_counting", "list_functions",
    "mahjong_puzzle", "maze", "modulo_grid", "number_filtering", "number_sequence", "ransom_note",
    "rotate_matrix", "rotten_oranges", "simple_equations", "simple_geometry",
    "string_manipulation", "string_splitting", "string_synthesis", "syllogism",
    "word_sequence_reversal",
)  # fmt: skip

#: datasets whose partial credit paid degenerate answers (the audit's worst case in the reason)
ALL_OR_NOTHING: dict[str, str] = {
    **{
        name: "the base scorer gives credit to any answer containing the reference"
        for name in _BASE_SCORER
    },
    "arc_agi": "any grid-shaped answer earns 0.05",
    "boxnet": "an empty plan earns 0.05",
    "calendar_arithmetic": "any weekday earns 0.1",
    "countdown": "any expression earns 0.05 (0.01 for junk)",
    "fraction_simplification": "another task's fraction earns 0.05",
    "coin_flip": "an absolute tolerance of 1e-4 makes 0 right for small probabilities",
    "figlet_font": "0.1 per letter in place",
    "futoshiki": "a grid filled with 1 earns 0.31 for the cells it gets right",
    "game_of_life": "another task's grid earns 0.92 for the cells it shares",
    "game_of_life_halting": "every non-empty answer scores 1",
    "knights_knaves": "calling everyone a knight earns 0.31 where wrong (0.3 + 0.7 x matches)",
    "mini_sudoku": "a grid filled with 1 earns 0.47",
    "palindrome_generation": "any answer earns 0.05",
    "polynomial_equations": "credit decays with the distance to a root: 0 earns 0.10",
    "propositional_logic": "a wrong conclusion earns 0.05, a tautology 0.25",
    "puzzle24": "any wrong expression earns 0.01",
    "rearc": "any grid-shaped answer earns 0.05",
    "rectangle_count": "credit decays with the distance: 2 earns 0.24",
    "sentence_reordering": "any answer earns 0.05",
    "sokoban": "reasoning-gym's partial credit",
    "spell_backward": "credit per letter in place",
    "sudoku": "a grid filled with 1 earns 0.50",
    "time_intervals": "credit decays with the distance: another task's answer earns 0.33",
    "tsumego": "credit for an answer that contains the reference, 0.05 or 0.01 for others",
    "word_sorting": "credit per word in place, at least 0.2: the question's word list earns 0.10",
}

#: datasets registration refuses, and why
REFUSED: dict[str, str] = {
    "propositional_logic": (
        "any statement the premises entail is accepted, so restating or weakening one premise "
        "earns full marks (0.66 on average; even reasoning-gym's own example answers mostly "
        "follow from a single premise): the task cannot tell reasoning from copying"
    ),
}

_NUMBERS = re.compile(r"\d+")
_PLAIN_NUMBER = re.compile(
    r"\A[+-]?(?:\d{1,40}(?:\.\d{0,40})?|\.\d{1,40})(?:[eE][+-]?\d{1,3})?(?:/\d{1,40})?\Z"
)


def _puzzle24(answer: str, entry: Mapping[str, Any], _instance: Any) -> str | None:
    """the expression uses exactly the given numbers"""
    given = sorted(int(n) for n in entry["metadata"].get("numbers", []))
    used = sorted(int(n) for n in _NUMBERS.findall(answer))
    if used != given:
        return f"the expression must use exactly the given numbers {given}, used {used[:8]}"
    return None


def _coin_flip(answer: str, entry: Mapping[str, Any], _instance: Any) -> str | None:
    """within 0.1% of the probability, not 1e-4 absolute; a plain number (no 1e999999999)"""
    text = answer.replace(",", "").strip()
    if not _PLAIN_NUMBER.match(text):  # Fraction("1e999999999") would compute 10**999999999
        return "the probability must be a plain decimal or fraction"
    try:
        got = Fraction(text)
        want = Fraction(str(entry["answer"]).replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return None  # reasoning-gym scores what it cannot parse 0
    if abs(got - want) > Fraction(1, 10**9) + abs(want) / 1000:
        return "the probability must be within 0.1% of the right one"
    return None


def _halting(answer: str, entry: Mapping[str, Any], _instance: Any) -> str | None:
    """the answer is the reference (True/False), not any non-empty string"""
    if answer.strip().lower() != str(entry["answer"]).strip().lower():
        return f"the answer must be {entry['answer']!r}"
    return None


def _sokoban(answer: str, entry: Mapping[str, Any], _instance: Any) -> str | None:
    """at most twice as many moves as the reference solution"""
    limit = 2 * len(str(entry["answer"])) + 8
    if len(answer.strip()) > limit:
        return f"{len(answer.strip())} moves: a solution is at most {limit} here, not a random walk"
    return None


def _propositional(answer: str, entry: Mapping[str, Any], instance: Any) -> str | None:
    """a conclusion combines the premises: not entailed by one alone, not all of them restated"""
    from reasoning_gym.logic.propositional_logic import Expression

    try:
        premises = [Expression.from_string(p) for p in entry["metadata"]["premises"]]
        conclusion = Expression.from_string(answer)
    except (ValueError, KeyError, AttributeError, IndexError, RecursionError):
        return None  # reasoning-gym scores what it cannot parse 0
    for number, premise in enumerate(premises, start=1):
        if instance._is_valid_conclusion([premise], conclusion):
            return f"the conclusion follows from premise {number} alone: it restates what was given"
    if premises and all(instance._is_valid_conclusion([conclusion], p) for p in premises):
        return "the conclusion restates the premises together"
    return None


#: checks an answer must pass before reasoning-gym scores it: (answer, entry, dataset) -> why not
CHECKS: dict[str, Callable[[str, Mapping[str, Any], Any], str | None]] = {
    "coin_flip": _coin_flip,
    "game_of_life_halting": _halting,
    "propositional_logic": _propositional,
    "puzzle24": _puzzle24,
    "sokoban": _sokoban,
}


def strict_refusal(
    dataset: str, answer: str, entry: Mapping[str, Any], instance: Any
) -> str | None:
    """Why ``answer`` scores 0 before reasoning-gym sees it, or None (no check, or it passes)."""
    check = CHECKS.get(dataset)
    return None if check is None else check(answer, entry, instance)


def strict_value(dataset: str, value: float) -> tuple[float, str | None]:
    """reasoning-gym's ``value``, or 0 and why if the dataset pays only full marks."""
    if dataset in ALL_OR_NOTHING and value < 1.0:
        return (
            0.0,
            f"partial credit ({value:.2f}) is not paid for {dataset}: {ALL_OR_NOTHING[dataset]}",
        )
    return value, None
