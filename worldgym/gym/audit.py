"""Degenerate answers: does an environment pay for answers that carry no work?

An environment's verifier is untrusted in its own way: a regex ``.+``, a
scorer that gives partial credit for any number that appears, or one that
accepts a restated premise pays miners for junk, and the training signal
rewards junk. :func:`audit` derives sample tasks from a fixed seed (the same
everywhere), scores the reference answers, and scores a set of **strategies**
that need no reasoning: the empty answer, constants, the question copied, a
line of the question, the question with its blanks filled, another task's
answer, a list of answers, plus a few per dataset (everyone a knight, the
same four numbers for 24).

A strategy's **credit** is the mean score it gets on tasks where its answer is
*not* the reference (normalised: case, spacing, numbers by value); where it
happens to be right it counts 0. So a constant ``9`` on one-digit sums earns no
credit when it is wrong, which is what guessing looks like, while a verifier
that accepts anything, or partial credit for junk, shows up at once.

:meth:`AuditReport.refusal` is what registration and ``worldgym env validate``
apply: the verifier must give its own reference answers at least
:data:`REFERENCE_FLOOR` on average (one that cannot is broken), must not give
another task's answer credit (it would be ignoring the reference), no strategy
may earn more than :data:`THRESHOLD`, and a few datasets are refused outright
(:data:`worldgym.gym.generators._rg_strict.REFUSED`). Validators can apply the same
verdict with :func:`check_registrable` (the samples come from a fixed seed, so
every machine sees the same tasks). ``bench/degenerate_audit.py`` runs the same strategies over
every reasoning-gym dataset with more tasks and prints the table in worldgym/gym/README.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from worldgym.gym.errors import EnvironmentRefusedError
from worldgym.gym.generators._rg_strict import REFUSED
from worldgym.gym.spec import PythonTestsVerifier, RegexVerifier
from worldgym.gym.task import Task
from worldgym.gym.verifiers.match import normalize

if TYPE_CHECKING:
    from worldgym.gym.environment import Environment

__all__ = [
    "AUDIT_TASKS",
    "THRESHOLD",
    "AuditReport",
    "Strategy",
    "audit",
    "check_registrable",
    "credit",
    "strategies",
]

THRESHOLD = 0.05
AUDIT_TASKS = 48
CODE_AUDIT_TASKS = 6
_CODE_STRATEGIES = frozenset(
    {"empty", "constant '0'", "constant 'None'", "question copied", "another task's answer"}
)
REFERENCE_FLOOR = 0.9
_SEED = bytes.fromhex("a0d1" * 16)
_MINER = "0x" + "a0d1" * 10
CONSTANTS = (
    "0", "1", "2", "-1", "10", "24", "100", "1*2*3*4", "Yes", "No", "True", "False", "A", "x",
    "None", "[]", "A W", "1 2 3 4 5 6 7 8 9 0", "0 1",
)  # fmt: skip
_BLANKS = re.compile(r"[_?]")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")

Answer = Callable[[Task, Sequence[Task], int], "str | None"]


@dataclass(frozen=True)
class Strategy:
    """A way of answering without solving: a name and a function of (task, other tasks, index)."""

    name: str
    answer: Answer


def _lines(task: Task) -> list[str]:
    return [line.strip() for line in task.question.splitlines() if line.strip()]


def _line(position: int) -> Answer:
    def pick(task: Task, others: Sequence[Task], index: int) -> str | None:
        lines = _lines(task)
        return lines[position] if -len(lines) <= position < len(lines) else None

    return pick


def _filled(digit: str) -> Answer:
    def fill(task: Task, others: Sequence[Task], index: int) -> str | None:
        grid = [line for line in _lines(task) if _BLANKS.search(line) and len(line) < 200]
        return "\n".join(_BLANKS.sub(digit, line) for line in grid) or None

    return fill


def _other(task: Task, others: Sequence[Task], index: int) -> str | None:
    return others[(index + 1) % len(others)].answer if len(others) > 1 else None


def _answer_list(task: Task, others: Sequence[Task], index: int) -> str | None:
    answers = [o.answer for o in others if o.answer is not None and o is not task]
    return ", ".join(dict.fromkeys(answers)) or None


def _everyone(role: str) -> Answer:
    """knights_knaves: everyone gets the same role, in the dataset's own words."""

    def say(task: Task, others: Sequence[Task], index: int) -> str | None:
        names = [str(n) for n in task.metadata.get("names", [])]
        terms = task.metadata.get("knight_knave_terms", {})
        word = str(terms.get(f"a_{role}", f"a {role}")) if isinstance(terms, dict) else role
        said = [f"{name} is {word}" for name in names]
        if not said:
            return None
        return (", ".join(said[:-1]) + ", and " + said[-1] if len(said) > 1 else said[0]) + "."

    return say


def _premise(position: int) -> Answer:
    def restate(task: Task, others: Sequence[Task], index: int) -> str | None:
        premises = task.metadata.get("premises")
        if isinstance(premises, list) and -len(premises) <= position < len(premises):
            return str(premises[position])
        return None

    return restate


def _constant(value: str) -> Answer:
    return lambda task, others, index: value


GENERIC: tuple[Strategy, ...] = (
    Strategy("empty", _constant("")),
    *(Strategy(f"constant {c!r}", _constant(c)) for c in CONSTANTS),
    Strategy("question copied", lambda t, o, i: t.question),
    Strategy("first line", _line(0)),
    Strategy("last line", _line(-1)),
    Strategy("second-to-last line", _line(-2)),
    Strategy("blanks filled with 1", _filled("1")),
    Strategy("another task's answer", _other),
    Strategy("answer list", _answer_list),
)

SPECIFIC: dict[str, tuple[Strategy, ...]] = {
    "knights_knaves": (
        Strategy("everyone a knight", _everyone("knight")),
        Strategy("everyone a knave", _everyone("knave")),
    ),
    "propositional_logic": (
        *(Strategy(f"premise {k} restated", _premise(k)) for k in range(4)),
        Strategy("last premise restated", _premise(-1)),
    ),
}


def strategies(datasets: Sequence[str]) -> list[Strategy]:
    """The generic strategies and those specific to ``datasets``."""
    out = list(GENERIC)
    for dataset in dict.fromkeys(datasets):
        out.extend(SPECIFIC.get(dataset, ()))
    return out


def _same(answer: str, reference: str | None) -> bool:
    """Whether ``answer`` is the reference itself (then credit for it is deserved)."""
    if reference is None:
        return False
    a, b = normalize(answer), normalize(reference)
    if a == b:
        return True
    if _NUMBER.match(a) and _NUMBER.match(b):
        return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-9)
    return False


def _score(env: Environment, task: Task, answer: str) -> float:
    """The verifier's score of ``answer`` as :meth:`Environment.score` would give it."""
    if not answer.strip():
        return 0.0  # Environment.score refuses an empty answer before the verifier
    return env.rubric(task, answer).value


def credit(
    env: Environment, tasks: Sequence[Task], chosen: Sequence[Strategy]
) -> dict[str, tuple[float, float]]:
    """(credit, raw mean) of each strategy over ``tasks`` (credit: see the module docstring).

    Task by task, every strategy in turn: a dataset scored in the pinned-hash
    child keeps each task's item cached while its strategies are scored.
    """
    earned = dict.fromkeys((s.name for s in chosen), 0.0)
    raw = dict(earned)
    for index, task in enumerate(tasks):
        for strategy in chosen:
            answer = strategy.answer(task, tasks, index)
            if answer is None:
                continue
            value = _score(env, task, answer)
            raw[strategy.name] += value
            if not _same(answer, task.answer):
                earned[strategy.name] += value
    return {name: (earned[name] / len(tasks), raw[name] / len(tasks)) for name in earned}


@dataclass
class AuditReport:
    """What :func:`audit` measured: reference scores and each strategy's credit."""

    tasks: int
    reference_mean: float | None
    rows: dict[str, tuple[float, float]] = field(default_factory=dict)
    static: str | None = None

    def worst(self) -> tuple[str, float]:
        """The strategy with the most credit, and its credit (``("none", 0.0)`` if none ran)."""
        if not self.rows:
            return "none", 0.0
        name = max(self.rows, key=lambda n: self.rows[n][0])
        return name, self.rows[name][0]

    def refusal(self, threshold: float = THRESHOLD) -> str | None:
        """Why this environment must not be registered, or None."""
        if self.static is not None:
            return self.static
        if self.reference_mean is not None and self.reference_mean < REFERENCE_FLOOR:
            return (
                f"the verifier gives the tasks' own reference answers only "
                f"{self.reference_mean:.2f} on average (at least {REFERENCE_FLOOR} expected): "
                "it cannot recognise a correct answer"
            )
        other = self.rows.get("another task's answer", (0.0, 0.0))[0]
        if other > threshold + 1e-9:
            return (
                f"the verifier ignores the reference answer: another task's answer earns "
                f"{other:.2f} on average (at most {threshold} allowed)"
            )
        name, worst = self.worst()
        if worst > threshold + 1e-9:  # a flat 0.05 summed over tasks is not "more"
            return (
                f"degenerate answers are paid: {name} earns {worst:.2f} on average over "
                f"{self.tasks} sample tasks where it is wrong (at most {threshold} allowed); "
                "a verifier must pay for the work, not for the shape of an answer"
            )
        return None


def _static_refusal(env: Environment) -> str | None:
    for dataset in _datasets(env):
        if dataset in REFUSED:
            return f"reasoning-gym dataset {dataset!r} is refused: {REFUSED[dataset]}"
    verifier = env.spec.verifier
    if isinstance(verifier, RegexVerifier) and "{answer}" not in verifier.pattern:
        return (
            "the regex verifier does not use {answer}: it ignores the reference answer, "
            "so it pays for the shape of a completion, not for being right"
        )
    return None


def audit(env: Environment, tasks: int = AUDIT_TASKS, datasets: Sequence[str] = ()) -> AuditReport:
    """Score the reference and every strategy on ``tasks`` sample tasks of ``env``.

    Code environments are audited on :data:`CODE_AUDIT_TASKS` tasks with the
    strategies that make sense for code (each score is a sandbox run).

    Raises:
        SandboxError: a code environment and no sandbox on this machine.
        GymError: a sample task cannot be derived.
    """
    static = _static_refusal(env)
    if static is not None:
        return AuditReport(0, None, static=static)
    if isinstance(env.spec.verifier, PythonTestsVerifier):
        tasks = min(tasks, CODE_AUDIT_TASKS)  # each score is a sandbox run
    sample = [env.task(_SEED, 1, 1, _MINER, index) for index in range(tasks)]
    references = [t for t in sample if t.answer is not None]
    reference_mean = (
        sum(_score(env, t, str(t.answer)) for t in references) / len(references)
        if references
        else None
    )
    report = AuditReport(len(sample), reference_mean)
    chosen = strategies(datasets or _datasets(env))
    if isinstance(env.spec.verifier, PythonTestsVerifier):
        chosen = [s for s in chosen if s.name in _CODE_STRATEGIES]
    report.rows.update(credit(env, sample, chosen))
    return report


def _datasets(env: Environment) -> list[str]:
    return [str(getattr(leaf, "dataset", "")) for leaf in env.source.leaves]


def check_registrable(env: Environment) -> AuditReport:
    """The audit of ``env``; raises if registration must refuse it.

    Raises:
        EnvironmentRefusedError: with :meth:`AuditReport.refusal`'s reason.
        SandboxError: a code environment and no sandbox on this machine.
    """
    report = audit(env)
    why = report.refusal()
    if why is not None:
        raise EnvironmentRefusedError(f"environment {env.spec.name!r} refused: {why}")
    return report
