"""The machine checks every environment passes before this machine uses it.

Beyond the schema (:mod:`worldgym.gym.spec`) and reproducibility (installed versions,
known dataset, config within bounds: :func:`worldgym.gym.generators.check_reproducible`),
an environment is built only if:

* its regular expressions are fast on adversarial text as long as the text
  they will see (:func:`check_patterns`, with :func:`worldgym.gym.regexes.probe`);
* a few sample tasks derive without error, each within the derivation
  deadline, and are of a sane size (:func:`check_samples`).

The samples come from a fixed seed, so every machine derives the same ones and
reaches the same verdict. Failures are :class:`worldgym.gym.errors.SpecError` with the reason.
"""

from __future__ import annotations

from typing import Protocol

from worldgym.gym.errors import GymError, SpecError
from worldgym.gym.regexes import probe
from worldgym.gym.spec import EnvSpec, RegexExtract, RegexVerifier
from worldgym.gym.task import Task

__all__ = [
    "MAX_ANSWER_CHARS",
    "MAX_QUESTION_CHARS",
    "SAMPLE_TASKS",
    "DerivesTasks",
    "check_patterns",
    "check_samples",
]

SAMPLE_TASKS = 4
SAMPLE_SEED = bytes.fromhex("5a" * 32)
SAMPLE_MINER = "0x" + "5a" * 20
MAX_QUESTION_CHARS = 100_000
MAX_ANSWER_CHARS = 100_000


def check_patterns(spec: EnvSpec) -> None:
    """Probe the spec's regexes on text as long as they will meet (see :mod:`worldgym.gym.regexes`).

    Raises:
        SpecError: a pattern is too slow on some adversarial text; says which and where.
    """
    limit = spec.completion_char_limit
    if isinstance(spec.extract, RegexExtract):
        try:
            probe(spec.extract.pattern, mode="search", length=limit, dotall=True)
        except ValueError as exc:
            raise SpecError(f"extract.pattern: {exc}") from None
    if isinstance(spec.verifier, RegexVerifier):
        try:
            probe(
                spec.verifier.pattern,
                mode="fullmatch",
                length=min(spec.verifier.max_answer_chars, limit),
                ignore_case=spec.verifier.ignore_case,
            )
        except ValueError as exc:
            raise SpecError(f"verifier.pattern: {exc}") from None


class DerivesTasks(Protocol):
    """What :func:`check_samples` needs of an environment: deriving a task."""

    def task(
        self, seed: bytes | str, env_id: int, version: int, miner: str | bytes, index: int
    ) -> Task:
        """The task for ``index`` in an epoch with ``seed``."""
        ...


def check_samples(env: DerivesTasks) -> None:
    """Derive :data:`SAMPLE_TASKS` tasks from a fixed seed; refuse failures and oversized tasks.

    Raises:
        SpecError: a sample task could not be derived (error or deadline) or is too large.
    """
    for index in range(SAMPLE_TASKS):
        try:
            task = env.task(SAMPLE_SEED, 1, 1, SAMPLE_MINER, index)
        except GymError as exc:
            raise SpecError(f"sample task {index} could not be derived: {exc}") from None
        if len(task.question) > MAX_QUESTION_CHARS:
            raise SpecError(
                f"sample task {index} has a question of {len(task.question):,} characters; "
                f"the limit is {MAX_QUESTION_CHARS:,} (make the generator's config smaller)"
            )
        if task.answer is not None and len(task.answer) > MAX_ANSWER_CHARS:
            raise SpecError(
                f"sample task {index} has a reference answer of {len(task.answer):,} characters; "
                f"the limit is {MAX_ANSWER_CHARS:,} (make the generator's config smaller)"
            )
