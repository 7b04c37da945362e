"""Problem families of the ``python_functions`` generator, version 1.

Each family draws its parameters from a ``random.Random`` and returns a
:class:`Problem`: the text of the task, the reference solution (source code,
the single source of truth for the expected outputs) and an argument sampler.
Changing anything here changes tasks: add a new version instead
(``VERSIONS`` in :mod:`worldgym.gym.generators.python_functions`).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Any

__all__ = ["FAMILIES_V1", "Problem"]

Args = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One function-writing problem: ``signature`` to implement, ``reference`` source solving it."""

    entry_point: str
    signature: str
    description: str
    reference: str
    sample: Callable[[Random], Args]
    edge_cases: tuple[Args, ...] = ()


def _ints(rng: Random, low: int, high: int, max_len: int) -> list[int]:
    return [rng.randint(low, high) for _ in range(rng.randint(0, max_len))]


def _word(rng: Random, alphabet: str, max_len: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, max_len)))


def sum_multiples(rng: Random) -> Problem:
    a, b = rng.sample(range(2, 12), 2)
    return Problem(
        "sum_multiples",
        "sum_multiples(n: int) -> int",
        f"returns the sum of all positive integers below n that are multiples of {a} or {b} "
        f"(0 if there are none)",
        f"def sum_multiples(n):\n"
        f"    return sum(k for k in range(1, max(n, 0)) if k % {a} == 0 or k % {b} == 0)\n",
        lambda r: (r.randint(0, 400),),
        ((0,), (1,), (a * b + 1,)),
    )


def rotate(rng: Random) -> Problem:
    left = rng.random() < 0.5
    way, expr = ("left", "xs[k:] + xs[:k]") if left else ("right", "xs[-k:] + xs[:-k]")
    return Problem(
        "rotate",
        "rotate(xs: list[int], k: int) -> list[int]",
        f"returns a new list: xs rotated {way} by k positions (k >= 0 may exceed len(xs); "
        f"an empty list stays empty)",
        f"def rotate(xs, k):\n    if not xs:\n        return []\n    k %= len(xs)\n"
        f"    return {expr} if k else list(xs)\n",
        lambda r: (_ints(r, -9, 9, 9), r.randint(0, 20)),
        (([], 3), ([1, 2, 3], 0), ([1, 2, 3], 4)),
    )


def count_chars(rng: Random) -> Problem:
    chars = "".join(sorted(rng.sample(string.ascii_lowercase, rng.randint(2, 6))))
    return Problem(
        "count_chars",
        "count_chars(s: str) -> int",
        f"returns how many characters of s are one of the letters {chars!r} (lowercase only)",
        f"def count_chars(s):\n    return sum(1 for c in s if c in {chars!r})\n",
        lambda r: (_word(r, string.ascii_letters + " ", 30),),
        (("",), (chars.upper(),), (chars,)),
    )


def clamp_list(rng: Random) -> Problem:
    low = rng.randint(-20, 5)
    high = low + rng.randint(0, 25)
    return Problem(
        "clamp_list",
        "clamp_list(xs: list[int]) -> list[int]",
        f"returns a new list where each element of xs is clamped to the range [{low}, {high}]",
        f"def clamp_list(xs):\n    return [min(max(x, {low}), {high}) for x in xs]\n",
        lambda r: (_ints(r, -40, 40, 10),),
        (([],), ([low - 1, high + 1],)),
    )


def caesar(rng: Random) -> Problem:
    k = rng.randint(1, 25)
    return Problem(
        "caesar",
        "caesar(s: str) -> str",
        f"shifts every lowercase letter of s forward by {k} places in the alphabet, wrapping "
        f"from 'z' to 'a', and leaves every other character unchanged",
        "def caesar(s):\n    return ''.join(chr((ord(c) - 97 + "
        f"{k}) % 26 + 97) if 'a' <= c <= 'z' else c for c in s)\n",
        lambda r: (_word(r, string.ascii_lowercase + "XYZ .!", 24),),
        (("",), ("xyz",)),
    )


def digit_sum(rng: Random) -> Problem:
    base = rng.choice([2, 3, 5, 7, 8, 10, 16])
    return Problem(
        "digit_sum",
        "digit_sum(n: int) -> int",
        f"returns the sum of the digits of the non-negative integer n written in base {base}",
        f"def digit_sum(n):\n    total = 0\n    while n:\n        n, d = divmod(n, {base})\n"
        f"        total += d\n    return total\n",
        lambda r: (r.randint(0, 10 ** r.randint(1, 12)),),
        ((0,), (base,), (base - 1,)),
    )


def fizz_words(rng: Random) -> Problem:
    a, b = rng.sample(range(2, 8), 2)
    w1, w2 = rng.sample(["Fizz", "Buzz", "Bang", "Pop", "Zap", "Boom"], 2)
    return Problem(
        "fizz_words",
        "fizz_words(n: int) -> list[str]",
        f"returns, for each i from 1 to n inclusive, {w1 + w2!r} if i is a multiple of both {a} "
        f"and {b}, {w1!r} if only of {a}, {w2!r} if only of {b}, and str(i) otherwise",
        f"def fizz_words(n):\n    out = []\n    for i in range(1, n + 1):\n"
        f"        word = ({w1!r} if i % {a} == 0 else '') + ({w2!r} if i % {b} == 0 else '')\n"
        f"        out.append(word or str(i))\n    return out\n",
        lambda r: (r.randint(0, 40),),
        ((0,), (a * b,)),
    )


def pair_count(rng: Random) -> Problem:
    target = rng.randint(-10, 20)
    return Problem(
        "pair_count",
        "pair_count(xs: list[int]) -> int",
        f"returns the number of index pairs (i, j) with i < j and xs[i] + xs[j] == {target}",
        f"def pair_count(xs):\n"
        f"    return sum(1 for i in range(len(xs)) for j in range(i + 1, len(xs))\n"
        f"               if xs[i] + xs[j] == {target})\n",
        lambda r: (_ints(r, -10, 20, 12),),
        (([],), ([target, 0, 0],)),
    )


def run_length(rng: Random) -> Problem:
    alphabet = "".join(rng.sample("abcdxyz", rng.randint(2, 4)))
    return Problem(
        "run_length",
        "run_length(s: str) -> list[list]",
        "returns the run-length encoding of s as a list of [character, count] pairs, one per run "
        "of equal consecutive characters, in order",
        "def run_length(s):\n    out = []\n    for c in s:\n        if out and out[-1][0] == c:\n"
        "            out[-1][1] += 1\n        else:\n            out.append([c, 1])\n"
        "    return out\n",
        lambda r: (_word(r, alphabet, 20),),
        (("",), ("aaa",)),
    )


def second_largest(rng: Random) -> Problem:
    smallest = rng.random() < 0.5
    which, fn = (
        ("smallest", "sorted(set(xs))")
        if smallest
        else ("largest", "sorted(set(xs), reverse=True)")
    )
    return Problem(
        "second_" + which,
        f"second_{which}(xs: list[int]) -> int | None",
        f"returns the second {which} distinct value in xs, or None if xs has fewer than two "
        f"distinct values",
        f"def second_{which}(xs):\n    values = {fn}\n"
        f"    return values[1] if len(values) > 1 else None\n",
        lambda r: (_ints(r, -5, 9, 8),),
        (([],), ([3, 3],), ([1, 2],)),
    )


FAMILIES_V1: dict[str, Callable[[Random], Problem]] = {
    "sum_multiples": sum_multiples,
    "rotate": rotate,
    "count_chars": count_chars,
    "clamp_list": clamp_list,
    "caesar": caesar,
    "digit_sum": digit_sum,
    "fizz_words": fizz_words,
    "pair_count": pair_count,
    "run_length": run_length,
    "second_largest": second_largest,
}
