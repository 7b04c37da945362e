r"""Regular expressions from spec authors: vetted statically, probed, and run with a timeout.

Spec authors are untrusted and validators run their patterns on every miner's
completion, so a pattern passes three gates:

1. **Shape** (:func:`check_shape`, part of the spec's schema): it compiles
   with both ``re`` and ``regex`` (so no variable-width look-behind); no
   variable repeat inside another repeat (``(a+)+``), no overlapping
   alternatives inside a repeat (``(a|aa)+``; an alternative that starts with
   ``{answer}`` overlaps with anything, since the reference is unknown), no
   backreferences, no ``{answer}`` inside a character class.
2. **Probe** (:func:`probe`, part of the machine checks of
   :func:`worldgym.gym.checks.check_patterns`): the pattern is run, with realistic
   references substituted for ``{answer}`` (digits, a long run of one
   character, words), on adversarial subjects as long as the text it will
   really see (runs of each of its literal characters, with and without a
   mismatching tail). Polynomial blow-ups such as ``a*a*a*a*a*a*a*a*b`` or
   ``.*x.*y`` on long text fail here: each probe has :data:`PROBE_TIMEOUT_S`.
3. **Run** (:func:`search_last`, :func:`full_match`): matching uses the
   ``regex`` module with its ``timeout``, which works in every thread (the
   engine checks the clock itself; no signal needed), at most
   :data:`RUN_TIMEOUT_S` per completion. The engine's clock is the process's
   CPU time, so a timeout bounds work, not waiting: on a loaded machine it takes
   longer in wall time, and it fires at the same amount of work everywhere.

``{answer}`` becomes ``(?:<reference>)`` with every character of the reference
but ASCII letters and digits written as a ``\U`` escape, so the reference is
always one literal atom whatever it contains (braces, commas, backslashes).
"""

from __future__ import annotations

import importlib
import re
import time
from functools import lru_cache
from typing import Any, Literal

import regex

__all__ = [
    "ANSWER_PLACEHOLDER",
    "PROBE_LENGTH_CAP",
    "PROBE_TIMEOUT_S",
    "RUN_TIMEOUT_S",
    "RegexTimeoutError",
    "check_shape",
    "compile_pattern",
    "full_match",
    "probe",
    "search_last",
]

ANSWER_PLACEHOLDER = "{answer}"
RUN_TIMEOUT_S = 1.0
PROBE_TIMEOUT_S = 0.1
PROBE_TOTAL_S = 5.0
PROBE_LENGTH_CAP = 65_536
PROBE_REFERENCES = ("42", "1" * 24, "a b c", "-3.75")

# stands for the reference in the static analysis: two characters, so that the parser cannot
# fold an alternative made of it into a character class
_UNKNOWN = "\ue000\ue001"
_UNKNOWN_CODES = frozenset(map(ord, _UNKNOWN))
_sre_parse: Any = importlib.import_module("re._parser")
_sre: Any = importlib.import_module("re._constants")
_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT)
_METACHARS = frozenset("\\()[]{}|*+?^$.")


class RegexTimeoutError(Exception):
    """A spec's pattern ran past its time limit on some text."""


# --------------------------------------------------------------------------- 1. shape


def _heads_distinct(alternatives: Any) -> bool:
    """True if every alternative starts with a different known literal character."""
    heads = []
    for alternative in alternatives:
        items = list(alternative)
        while items and items[0][0] == _sre.SUBPATTERN:  # look through groups
            items = list(items[0][1][-1])
        if not items or items[0][0] != _sre.LITERAL or items[0][1] in _UNKNOWN_CODES:
            return False
        heads.append(items[0][1])
    return len(heads) == len(set(heads))


def _walk(pattern: Any, inside_repeat: bool, found: list[str]) -> None:
    """Collect what makes ``pattern`` backtrack badly into ``found`` (explicit stack).

    Raises:
        ValueError: ``{answer}`` stands where the reference would not be one literal.
    """
    stack: list[tuple[Any, bool]] = [(pattern, inside_repeat)]
    while stack:
        items, repeated = stack.pop()
        for op, arg in items:
            if op in _REPEATS:
                low, high, sub = arg
                if repeated and low != high:
                    found.append("a variable repeat inside another repeat")
                stack.append((sub, repeated or high > 1))
            elif op in (_sre.GROUPREF, _sre.GROUPREF_EXISTS):
                found.append("a backreference")
            elif op == _sre.SUBPATTERN:
                stack.append((arg[-1], repeated))
            elif op == _sre.BRANCH:
                if repeated and not _heads_distinct(arg[1]):
                    found.append("alternatives that can overlap inside a repeat")
                stack.extend((alternative, repeated) for alternative in arg[1])
            elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
                stack.append((arg[1], repeated))
            elif op == _sre.IN:
                if any(kind == _sre.LITERAL and code in _UNKNOWN_CODES for kind, code in arg):
                    raise ValueError("{answer} cannot stand inside a character class [...]")
            elif op == _sre.ATOMIC_GROUP:
                stack.append((arg, repeated))


def check_shape(pattern: str) -> str:
    """Return ``pattern`` if it is safe to run on untrusted text, else raise ValueError (why)."""
    if any(ord(char) in _UNKNOWN_CODES for char in pattern):
        raise ValueError("the pattern may not contain U+E000 or U+E001 (reserved)")
    static = pattern.replace(ANSWER_PLACEHOLDER, f"(?:{_UNKNOWN})")
    try:
        parsed = _sre_parse.parse(static)
        re.compile(static)  # only what both engines accept (no variable-width look-behind)
        compile_pattern(pattern, "x", ignore_case=False, dotall=False)
    except (re.error, regex.error, OverflowError, RecursionError) as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    found: list[str] = []
    _walk(parsed, inside_repeat=False, found=found)
    problems = sorted(set(found))
    if problems:
        raise ValueError(
            f"pattern has {', '.join(problems)}, which can take exponential time on a crafted "
            "completion; rewrite it without nesting ([a-z]+ instead of (a+)+, (?:ab|cd)+ with "
            "alternatives that start differently)"
        )
    return pattern


# --------------------------------------------------------------------------- 3. run


def _escape(reference: str) -> str:
    """Every character but ASCII letters and digits as an escape: the reference stays literal."""
    return "".join(c if c.isascii() and c.isalnum() else f"\\U{ord(c):08x}" for c in reference)


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str, reference: str, *, ignore_case: bool, dotall: bool) -> Any:
    """``pattern`` with ``{answer}`` = ``reference`` (one literal atom), compiled by ``regex``."""
    source = pattern.replace(ANSWER_PLACEHOLDER, f"(?:{_escape(reference)})")
    flags = regex.VERSION0 | (regex.IGNORECASE if ignore_case else 0)
    return regex.compile(source, flags | (regex.DOTALL if dotall else 0))


def search_last(compiled: Any, text: str, timeout: float = RUN_TIMEOUT_S) -> Any:
    """The last non-overlapping match of ``compiled`` in ``text``, or None.

    Raises:
        RegexTimeoutError: matching ran longer than ``timeout`` seconds (any thread).
    """
    last = None
    try:
        for match in compiled.finditer(text, timeout=timeout):
            last = match
    except TimeoutError:
        raise RegexTimeoutError(f"the pattern ran longer than {timeout:g} s") from None
    return last


def full_match(compiled: Any, text: str, timeout: float = RUN_TIMEOUT_S) -> bool:
    """True if ``compiled`` matches all of ``text``.

    Raises:
        RegexTimeoutError: matching ran longer than ``timeout`` seconds (any thread).
    """
    try:
        return compiled.fullmatch(text, timeout=timeout) is not None
    except TimeoutError:
        raise RegexTimeoutError(f"the pattern ran longer than {timeout:g} s") from None


# --------------------------------------------------------------------------- 2. probe


def _probe_chars(pattern: str, reference: str) -> list[str]:
    """The characters worth repeating: the pattern's literal ones first, then common ones."""
    chars: list[str] = []
    for char in pattern.replace(ANSWER_PLACEHOLDER, "") + reference + "a1 .\n":
        if char not in _METACHARS and char not in chars:
            chars.append(char)
    return chars[:8]


def _subjects(pattern: str, reference: str, length: int) -> list[str]:
    """Long runs of one character, alone, then another character, then a mismatch.

    Those are the texts on which adjacent open-ended repeats backtrack the most:
    ``[a-z]+\\d+[a-z]+!`` on ``aaaa...a1`` followed by junk tries every split of the run
    from every start.
    """
    chars = _probe_chars(pattern, reference)
    out = []
    for char in chars:
        run = char * length
        out.append(run)
        for other in (*chars, "\x7f"):
            if other != char:
                out += [run[: length - 1] + other, run[: length - 2] + other + "\x7f"]
    if reference:
        repeated = (reference * (length // len(reference) + 1))[:length]
        out += [repeated, repeated[: length - 1] + "\x7f"]
    return out


@lru_cache(maxsize=256)
def probe(
    pattern: str,
    *,
    mode: Literal["search", "fullmatch"],
    length: int,
    ignore_case: bool = False,
    dotall: bool = False,
) -> None:
    """Run ``pattern`` on adversarial subjects of ``length`` characters; raise if one is slow.

    Each probe may take :data:`PROBE_TIMEOUT_S` of CPU time, all of them
    :data:`PROBE_TOTAL_S`. Patterns that pass are remembered (cached).

    Raises:
        ValueError: a probe ran past :data:`PROBE_TIMEOUT_S`, or all of them past
            :data:`PROBE_TOTAL_S`; the message shows the subject and reference.
    """
    length = max(1, min(length, PROBE_LENGTH_CAP))
    references = PROBE_REFERENCES if ANSWER_PLACEHOLDER in pattern else ("",)
    started = time.process_time()  # CPU time, as the engine counts its own timeouts
    for reference in references:
        compiled = compile_pattern(pattern, reference, ignore_case=ignore_case, dotall=dotall)
        for subject in _subjects(pattern, reference, length):
            try:
                if mode == "search":
                    search_last(compiled, subject, PROBE_TIMEOUT_S)
                else:
                    full_match(compiled, subject, PROBE_TIMEOUT_S)
            except RegexTimeoutError:
                shown = f"{subject[:12]!r}... ({len(subject):,} characters)"
                given = f" with {{answer}} = {reference!r}" if reference else ""
                raise ValueError(
                    f"pattern /{pattern[:80]}/ took over {PROBE_TIMEOUT_S * 1000:g} ms on "
                    f"{shown}{given}: it backtracks too much for text that long; simplify it "
                    "(fewer adjacent open-ended repeats such as .* or [a-z]+) or allow shorter "
                    "text (max_tokens, max_completion_chars, max_answer_chars)"
                ) from None
            if time.process_time() - started > PROBE_TOTAL_S:
                raise ValueError(
                    f"pattern /{pattern[:80]}/ is too slow to check on text of {length:,} "
                    "characters; simplify it"
                )
