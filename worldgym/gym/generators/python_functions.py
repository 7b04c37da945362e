"""``python_functions``: WorldGym's own generator of small code tasks with hidden tests.

reasoning-gym 0.1.25 has no offline dataset of "write this function" tasks, so
this generator makes them: a task is a problem family (sum of multiples,
rotation, Caesar shift, ...) with parameters, a few visible examples and hidden
unit tests, all drawn from ``random.Random(int.from_bytes(task_seed, "big"))``.
Expected outputs are computed by running the family's reference solution here
(our own code, not the miner's); completions are checked by the
``python_tests`` verifier in the sandbox. ``version`` pins the family code.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from random import Random
from typing import Any

from worldgym.gym.errors import NotReproducibleError, SpecError
from worldgym.gym.generators._pyfn_families import FAMILIES_V1, Problem
from worldgym.gym.generators.base import Item, LeafSource
from worldgym.gym.spec import PythonFunctionsGenerator

__all__ = ["VERSIONS", "PythonFunctionsSource", "check_python_functions"]

VERSIONS: dict[int, dict[str, Callable[[Random], Problem]]] = {1: FAMILIES_V1}


def check_python_functions(spec: PythonFunctionsGenerator) -> None:
    """Refuse versions this gym does not implement and unknown family names."""
    if spec.version not in VERSIONS:
        raise NotReproducibleError(
            f"python_functions generator version {spec.version} is not implemented by this gym "
            f"(it implements {sorted(VERSIONS)}); upgrade worldgym or pin a known version"
        )
    unknown = sorted(set(spec.families) - set(VERSIONS[spec.version]))
    if unknown:
        raise SpecError(
            f"generator.families: unknown {unknown}; version {spec.version} has "
            f"{sorted(VERSIONS[spec.version])}"
        )


def _reference(problem: Problem) -> Callable[..., Any]:
    namespace: dict[str, Any] = {}
    exec(compile(problem.reference, f"<reference {problem.entry_point}>", "exec"), namespace)
    function: Callable[..., Any] = namespace[problem.entry_point]
    return function


def _call(entry_point: str, args: tuple[Any, ...]) -> str:
    return f"{entry_point}({', '.join(repr(a) for a in args)})"


class PythonFunctionsSource(LeafSource):
    """Code tasks; ``metadata["tests"]`` holds the hidden ``{"call", "expected"}`` pairs."""

    def __init__(self, spec: PythonFunctionsGenerator) -> None:
        check_python_functions(spec)
        self.spec = spec
        self.source_id = f"python_functions/v{spec.version}"
        families = VERSIONS[spec.version]
        self._names = list(spec.families) or list(families)
        self._families = families

    def generate(self, task_seed: bytes) -> Item:
        """Family, parameters, examples and tests from ``Random(int(task_seed))``."""
        rng = Random(int.from_bytes(task_seed, "big"))
        family = rng.choice(self._names)
        problem = self._families[family](rng)
        solve = _reference(problem)
        examples = [problem.sample(rng) for _ in range(self.spec.examples_in_prompt)]
        hidden = [
            *problem.edge_cases,
            *(problem.sample(rng) for _ in range(self.spec.tests_per_task)),
        ]
        tests = [
            {"call": _call(problem.entry_point, args), "expected": solve(*copy.deepcopy(args))}
            for args in hidden
        ]
        shown = "\n".join(
            f"    {_call(problem.entry_point, args)} == {solve(*copy.deepcopy(args))!r}"
            for args in examples
        )
        question = f"Write a Python function `{problem.signature}` that {problem.description}."
        if shown:
            question += f"\n\nExamples:\n{shown}"
        question += "\n\nUse only the Python standard library."
        return Item(
            question=question,
            answer=problem.reference,
            metadata={
                "family": family,
                "entry_point": problem.entry_point,
                "tests": tests,
                "generator": self.source_id,
            },
        )
