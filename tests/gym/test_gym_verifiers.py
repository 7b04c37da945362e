"""Every verifier kind on right, wrong, empty, huge and malformed completions; the scorer guards."""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from worldgym import gym
from worldgym.gym.environment import Environment
from worldgym.gym.environments import example_path
from worldgym.gym.task import Score, Task
from worldgym.gym.timeouts import VerifierTimeout, alarm_used, deadline

SEED = "0x" + "3c" * 32
MINER = "0x" + "ab" * 20
RG = "0.1.25"


def _env(doc: dict[str, Any]) -> Environment:
    base = {"schema": "worldgym.env/1", "name": "t"}
    return gym.load_environment(gym.load_spec(json.dumps({**base, **doc}).encode()))


def _regex_env() -> Environment:
    return _env(
        {
            "generator": {
                "kind": "reasoning_gym",
                "dataset": "syllogism",
                "reasoning_gym_version": RG,
            },
            "verifier": {
                "kind": "regex",
                "pattern": r"(?:the answer is )?{answer}\.?",
                "ignore_case": True,
            },
        }
    )


def _exact_strict_env() -> Environment:
    return _env(
        {
            "generator": {
                "kind": "reasoning_gym",
                "dataset": "spell_backward",
                "reasoning_gym_version": RG,
            },
            "verifier": {"kind": "exact", "normalize": False},
        }
    )


def _wrap(kind: str, answer: str) -> str:
    if kind == "code":
        return f"Here it is:\n```python\n{answer}\n```"
    if kind == "algebra":
        return f"so the value is \\boxed{{{answer}}}."
    return f"thinking...\n<answer>{answer}</answer>"


def _wrong(kind: str, task: Task) -> str:
    if kind == "code":
        entry = task.metadata["entry_point"]
        return f"def {entry}(*args):\n    return None\n"
    if kind in ("regex", "exact_strict"):
        return "maybe" if kind == "regex" else str(task.answer).upper() + "x"
    return next(c for c in ("-987654", "424242", "5.5") if str(task.answer) not in c)


CASES: dict[str, Callable[[], Environment]] = {
    "arithmetic": lambda: gym.load_environment(example_path("arithmetic")),  # reasoning_gym
    "algebra": lambda: gym.load_environment(example_path("algebra")),  # math
    "words": lambda: gym.load_environment(example_path("words")),  # exact, normalised
    "exact_strict": _exact_strict_env,  # exact
    "regex": _regex_env,  # regex
    "code": lambda: gym.load_environment(example_path("code")),  # python_tests
}

MALFORMED = [
    "",
    "   \n\t ",
    "<answer></answer>",
    "<answer>   </answer>",
    "<answer>unclosed",
    "```python\nunclosed",
    "\\boxed{",
    "\x00\x01\x02<answer>\x00</answer>",
    "<answer>\ud800\udfff</answer>",
    "<answer>ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ</answer>",
    "```python\n\x00\n```",
    "```python\nimport sys; sys.exit(0)\n```",
    "```python\ndef f(:\n```",
    "\\boxed{9^9^9^9^9}",
    "\\boxed{" + "(" * 5000 + "}",
    "<answer>" + "[" * 10_000 + "</answer>",
    bytes(range(256)).decode("latin-1"),
]


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, Environment]:
    return request.param, CASES[request.param]()


def _tasks(env: Environment, count: int = 3) -> list[Task]:
    return env.tasks(SEED, 3, 1, MINER, range(count))


def _is_verdict(score: Score) -> None:
    assert isinstance(score, Score)
    assert 0.0 <= score.value <= 1.0
    assert score.reason


def test_right_answers_score_one(case: tuple[str, Environment]) -> None:
    kind, env = case
    for task in _tasks(env):
        assert task.answer is not None
        answer = task.answer.upper() if kind == "words" else task.answer
        score = env.score(task, _wrap(kind, answer))
        assert score.value == 1.0, (task.question, score)


def test_wrong_answers_score_zero(case: tuple[str, Environment]) -> None:
    kind, env = case
    for task in _tasks(env):
        score = env.score(task, _wrap(kind, _wrong(kind, task)))
        assert score.value == 0.0, (task.question, score)
        assert score.reason


def test_empty_and_missing_answers_score_zero_with_a_reason(case: tuple[str, Environment]) -> None:
    kind, env = case
    task = _tasks(env, 1)[0]
    for completion in ("", "I don't know", _wrap(kind, "")):
        score = env.score(task, completion)
        assert score.value == 0.0
        assert "no answer" in score.reason or "empty" in score.reason


def test_huge_completions_score_zero_without_work(case: tuple[str, Environment]) -> None:
    kind, env = case
    task = _tasks(env, 1)[0]
    huge = _wrap(kind, str(task.answer)) + "x" * (env.spec.completion_char_limit + 1)
    start = time.perf_counter()
    score = env.score(task, huge)
    assert time.perf_counter() - start < 1.0
    assert score.value == 0.0
    assert "limit" in score.reason


def test_huge_answers_inside_the_limit_are_refused_or_wrong(case: tuple[str, Environment]) -> None:
    kind, env = case
    task = _tasks(env, 1)[0]
    answer = "9" * min(env.spec.completion_char_limit - 100, 60_000)
    score = env.score(task, _wrap(kind, answer))
    assert score.value == 0.0


@pytest.mark.parametrize("completion", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_completions_never_raise(case: tuple[str, Environment], completion: str) -> None:
    _kind, env = case
    task = _tasks(env, 1)[0]
    score = env.score(task, completion)
    _is_verdict(score)
    assert score.value == 0.0


def test_non_text_completion_is_a_zero(case: tuple[str, Environment]) -> None:
    _kind, env = case
    task = _tasks(env, 1)[0]
    assert env.score(task, b"<answer>1</answer>").value == 0.0  # type: ignore[arg-type]
    assert env.score(task, None).reason.startswith("the completion is not text")  # type: ignore[arg-type]


def test_extract_matches_score_input() -> None:
    env = gym.load_environment(example_path("algebra"))
    assert env.extract(r"x \boxed{3}") == "3"
    assert env.extract("nothing") is None
    assert env.extract("x" * (env.spec.completion_char_limit + 1)) is None


def test_math_accepts_equivalent_forms() -> None:
    env = gym.load_environment(example_path("algebra"))
    task = _tasks(env, 1)[0]
    value = int(str(task.answer))
    for form in (f"x = {value}", f"{value}.0", f"\\frac{{{2 * value}}}{{2}}"):
        assert env.score(task, f"\\boxed{{{form}}}").value == 1.0, form


def test_math_refuses_power_towers_fast() -> None:
    env = gym.load_environment(example_path("algebra"))
    task = _tasks(env, 1)[0]
    start = time.perf_counter()
    score = env.score(task, r"\boxed{9^{9^{9^{9}}}}")
    assert score.value == 0.0
    assert "power tower" in score.reason
    assert time.perf_counter() - start < 1.0


def _rg_env(dataset: str) -> Environment:
    return _env(
        {
            "generator": {"kind": "reasoning_gym", "dataset": dataset, "reasoning_gym_version": RG},
            "verifier": {"kind": "reasoning_gym"},
        }
    )


@pytest.mark.parametrize(
    "dataset", ["n_queens", "binary_matrix", "spiral_matrix", "string_insertion"]
)
def test_scorers_that_eval_answers_cannot_run_code(dataset: str, tmp_path: Path) -> None:
    env = _rg_env(dataset)
    task = _tasks(env, 1)[0]
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).write_text('x')"
    score = env.score(task, f"<answer>{payload}</answer>")
    assert score.value == 0.0
    assert not marker.exists()
    # a literal answer still reaches the scorer's literal branch
    assert env.score(task, "<answer>[1, 2]</answer>").value == 0.0


@pytest.mark.parametrize(
    "dataset", ["countdown", "puzzle24", "simple_integration", "intermediate_integration"]
)
def test_scorers_that_parse_expressions_refuse_code(dataset: str, tmp_path: Path) -> None:
    env = _rg_env(dataset)
    task = _tasks(env, 1)[0]
    marker = tmp_path / "pwned"
    for payload in (
        f"open({str(marker)!r}, 'w')",
        "__import__('os').getpid()",
        "(1).__class__",
        "9**9**9**9",
    ):
        score = env.score(task, f"<answer>{payload}</answer>")
        assert score.value == 0.0
        assert "refused" in score.reason
    assert not marker.exists()
    assert env.score(task, f"<answer>{task.answer}</answer>").value == 1.0


def test_scorer_exceptions_become_zero_with_reason() -> None:
    env = _rg_env("prime_factorization")
    task = _tasks(env, 1)[0]
    score = env.score(task, "<answer>not a number</answer>")
    assert score.value == 0.0
    assert "rejected the answer (ValueError)" in score.reason


def _spin(seconds: float) -> None:
    with deadline(seconds):
        while True:
            pass


def _spin_after_inner(outer: float) -> None:
    with deadline(outer):
        with deadline(5.0):
            pass
        while True:
            pass


def test_deadline_interrupts_and_nests() -> None:
    start = time.perf_counter()
    with pytest.raises(VerifierTimeout), deadline(5.0):
        _spin(0.2)
    assert time.perf_counter() - start < 2.0
    with pytest.raises(VerifierTimeout):
        _spin_after_inner(0.3)


def test_deadline_survives_a_foreign_alarm() -> None:
    signal.alarm(0)  # what math-verify's own timeout does when it finishes
    alarm_used()
    with pytest.raises(VerifierTimeout):
        _spin(0.2)


def test_deadline_interrupts_a_backtracking_regex() -> None:
    start = time.perf_counter()
    with pytest.raises(VerifierTimeout), deadline(0.3):
        re.fullmatch(r"(a+)+b", "a" * 40)
    assert time.perf_counter() - start < 2.0
