"""``python_tests``: run the task's hidden tests against the answer's code in the sandbox.

The sandbox gets the code and the test *calls* only (``rotate([1, 2], 3)``);
the harness inside prints the ``repr`` of each result, and the expected values,
which never enter the sandbox, are compared here, in the validator's process,
by exact type-aware equality. Code that prints fake results therefore gains
nothing over code that computes them.
"""

from __future__ import annotations

import ast
import math
from typing import Any

from worldgym.gym.sandbox import Limits, SandboxResult, run_python
from worldgym.gym.spec import PythonTestsVerifier
from worldgym.gym.task import Score, Task
from worldgym.gym.verifiers.base import too_long

__all__ = ["HARNESS", "PythonTests", "same_value"]

_MARK = "\x1eWGTEST "
_MAX_REPR = 20_000
_MAX_LINE = 2 * _MAX_REPR

HARNESS = f"""
import io, os, sys

def _emit(message):
    os.write(1, ({_MARK!r} + repr(message) + "\\n").encode())

def _main(data):
    namespace = {{"__name__": "__answer__"}}
    sys.stdout = io.StringIO()
    try:
        exec(compile(data["code"], "<answer>", "exec"), namespace)
    except BaseException as exc:
        _emit({{"error": (type(exc).__name__ + ": " + str(exc))[:300]}})
        return
    for index, call in enumerate(data["calls"]):
        try:
            text = repr(eval(call, namespace))
        except BaseException as exc:
            _emit({{"i": index, "raised": type(exc).__name__}})
            continue
        _emit({{"i": index, "repr": text[:{_MAX_REPR}]}})

_main(SANDBOX_INPUT)
"""


def same_value(got: Any, expected: Any) -> bool:
    """Equality that also requires equal types (``True`` is not ``1``, a tuple is not a list)."""
    if type(got) is not type(expected):
        return False
    if isinstance(got, list | tuple):
        return len(got) == len(expected) and all(
            same_value(a, b) for a, b in zip(got, expected, strict=True)
        )
    if isinstance(got, dict):
        return got.keys() == expected.keys() and all(same_value(got[k], expected[k]) for k in got)
    if isinstance(got, float):
        return math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12)
    return bool(got == expected)


def _reports(result: SandboxResult) -> tuple[dict[int, dict[str, Any]], str | None]:
    reports: dict[int, dict[str, Any]] = {}
    error = None
    for line in result.stdout.decode("utf-8", errors="replace").split("\n"):
        if not line.startswith(_MARK) or len(line) > _MAX_LINE:
            continue
        try:
            message = ast.literal_eval(line[len(_MARK) :])
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if not isinstance(message, dict):
            continue
        if "error" in message:
            error = str(message["error"])
        elif isinstance(message.get("i"), int):
            reports[message["i"]] = message
    return reports, error


def _check(report: dict[str, Any] | None, expected: Any) -> str | None:
    """None if the test passed, else what went wrong."""
    if report is None:
        return "no result (the program stopped before this test)"
    if "raised" in report:
        return f"raised {report['raised']}"
    try:
        got = ast.literal_eval(str(report.get("repr", "")))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return "returned a value that is not a plain literal"
    return None if same_value(got, expected) else "wrong result"


class PythonTests:
    """Score = 1 if every hidden test passes (or the fraction passed, with ``partial_credit``)."""

    def __init__(self, spec: PythonTestsVerifier) -> None:
        self.spec = spec
        self.limits = Limits(wall_s=spec.timeout_s, cpu_s=spec.cpu_s, memory_mb=spec.memory_mb)

    def __call__(self, task: Task, answer: str) -> Score:
        """Run the tests in the sandbox and compare; raises SandboxError only if it cannot start."""
        tests = task.metadata.get("tests")
        if not isinstance(tests, list) or not tests:
            return Score.zero("this task has no unit tests")
        refused = too_long(answer, self.spec.max_answer_chars)
        if refused is not None:
            return refused
        if "\x00" in answer:
            return Score.zero("the code contains NUL bytes")
        calls = [test["call"] for test in tests]
        result = run_python(HARNESS, {"code": answer, "calls": calls}, limits=self.limits)
        reports, error = _reports(result)
        if error is not None:
            return Score.zero(f"the code failed to load: {error}")
        failures = [(i, _check(reports.get(i), test["expected"])) for i, test in enumerate(tests)]
        failed = [(i, why) for i, why in failures if why is not None]
        passed = len(tests) - len(failed)
        if not failed:
            return Score(1.0, f"all {len(tests)} hidden tests passed")
        first, why = failed[0]
        reason = f"{passed}/{len(tests)} hidden tests passed; test {first}: {why}"
        if not result.ok:
            reason += f"; sandbox: {result.describe()}"
        value = passed / len(tests) if self.spec.partial_credit else 0.0
        return Score(value, reason)
