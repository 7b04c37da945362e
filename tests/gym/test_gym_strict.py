"""Degenerate answers earn nothing: the strict cases of the audit, and registration's refusals.

Each case is one the degenerate-answer audit (bench/degenerate_audit.py, table
in worldgym/gym/README.md) found paid by reasoning-gym 0.1.25's own scorer; the test
shows reasoning-gym still pays it and the gym does not, and that the
reference answer keeps full marks.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import reasoning_gym
from typer.testing import CliRunner

from worldgym import gym
from worldgym.cli.env import app
from worldgym.gym import registry
from worldgym.gym.audit import THRESHOLD, audit, check_registrable
from worldgym.gym.environment import Environment
from worldgym.gym.environments import example_names, example_path
from worldgym.gym.errors import EnvironmentRefusedError
from worldgym.gym.task import Task

RG = "0.1.25"
SEED = "0x" + "5e" * 32
MINER = "0x" + "77" * 20
runner = CliRunner()


def _env(dataset: str, verifier: dict[str, Any] | None = None, **config: Any) -> Environment:
    spec = {
        "schema": "worldgym.env/1",
        "name": dataset.replace("_", "-"),
        "generator": {
            "kind": "reasoning_gym", "dataset": dataset, "reasoning_gym_version": RG,
            "config": config,
        },
        "verifier": verifier or {"kind": "reasoning_gym"},
    }  # fmt: skip
    return gym.load_environment(json.dumps(spec).encode())


def _tasks(env: Environment, count: int = 12) -> list[Task]:
    return [env.task(SEED, 1, 1, MINER, index) for index in range(count)]


def _raw(dataset: str, answer: str, task: Task) -> float:
    """What reasoning-gym's own scorer gives (the gym's rules off)."""
    instance = reasoning_gym.create_dataset(dataset, seed=0, size=1)
    entry = {"question": task.question, "answer": task.answer, "metadata": dict(task.metadata)}
    return float(instance.score_answer(answer, entry))


def _assert_strict(env: Environment, dataset: str, answers: list[tuple[Task, str]]) -> None:
    paid_before = 0.0
    for task, answer in answers:
        paid_before += _raw(dataset, answer, task)
        score = env.rubric(task, answer)
        assert score.value == 0.0, (answer, score)
        assert score.reason
        assert env.rubric(task, str(task.answer)).value == 1.0
    assert paid_before / len(answers) > THRESHOLD  # reasoning-gym alone pays this junk


def test_puzzle24_must_use_exactly_the_given_numbers() -> None:
    env = _env("puzzle24")
    tasks = _tasks(env, 6)
    _assert_strict(env, "puzzle24", [(t, "1*2*3*4") for t in tasks])
    assert "exactly the given numbers" in env.rubric(tasks[0], "1*2*3*4").reason


def test_knights_knaves_pays_nothing_for_everyone_a_knight() -> None:
    env = _env("knights_knaves")
    cases = []
    for task in _tasks(env, 20):
        terms = task.metadata["knight_knave_terms"]
        answer = ", and ".join(f"{n} is {terms['a_knight']}" for n in task.metadata["names"]) + "."
        if answer != task.answer:
            cases.append((task, answer))
    _assert_strict(env, "knights_knaves", cases)


def test_a_sudoku_with_its_blanks_filled_with_1_earns_nothing() -> None:
    env = _env("mini_sudoku")
    cases = []
    for task in _tasks(env, 8):
        grid = [line for line in task.question.splitlines() if "_" in line]
        cases.append((task, "\n".join(line.replace("_", "1") for line in grid)))
    _assert_strict(env, "mini_sudoku", cases)


def test_an_answer_containing_the_reference_earns_nothing() -> None:
    """The base scorer paid len(reference) / len(answer) for any answer containing it."""
    env = gym.load_environment(example_path("arithmetic"))
    cases = [(t, f"{t.answer} 1 2 3 4 5 6 7 8 9") for t in _tasks(env, 10)]
    _assert_strict(env, "basic_arithmetic", cases)


def test_halting_pays_only_the_right_answer() -> None:
    env = _env("game_of_life_halting")
    cases = [(t, "False" if t.answer == "True" else "True") for t in _tasks(env, 6)]
    _assert_strict(env, "game_of_life_halting", cases)


def test_coin_flip_zero_is_not_a_small_probability() -> None:
    """An absolute tolerance of 1e-4 made ``0`` right for every small probability."""
    env = _env("coin_flip")
    small = [t for t in _tasks(env, 60) if 0 < float(Fraction(str(t.answer))) < 1e-4]
    assert small, "no task with a small probability in the sample"
    _assert_strict(env, "coin_flip", [(t, "0") for t in small])


def test_propositional_logic_is_refused_and_a_restated_premise_earns_nothing() -> None:
    env = _env("propositional_logic")
    task = _tasks(env, 1)[0]
    premise = task.metadata["premises"][0]
    assert _raw("propositional_logic", premise, task) == 1.0
    score = env.rubric(task, premise)
    assert score.value == 0.0
    assert "restates what was given" in score.reason
    with pytest.raises(EnvironmentRefusedError, match="propositional_logic' is refused"):
        check_registrable(env)


# --------------------------------------------------------------------------- registration


def _spec_file(tmp_path: Path, verifier: dict[str, Any], dataset: str = "chain_sum") -> Path:
    path = tmp_path / "env.json"
    path.write_text(
        json.dumps(
            {
                "schema": "worldgym.env/1",
                "name": "junk",
                "generator": {
                    "kind": "reasoning_gym", "dataset": dataset, "reasoning_gym_version": RG,
                },
                "verifier": verifier,
            }
        )
    )  # fmt: skip
    return path


@pytest.mark.parametrize(
    ("verifier", "why"),
    [
        ({"kind": "regex", "pattern": ".+"}, "does not use {answer}: it ignores the reference"),
        ({"kind": "regex", "pattern": r"(?:{answer}|-?\d+)"}, "ignores the reference answer"),
        ({"kind": "regex", "pattern": r"(?:{answer}|-1|0|1|2|10)"}, "degenerate answers are paid"),
        ({"kind": "regex", "pattern": r"{answer}x"}, "cannot recognise a correct answer"),
    ],
)
def test_registration_refuses_junk_verifiers_and_validate_says_why(
    tmp_path: Path, verifier: dict[str, Any], why: str
) -> None:
    path = _spec_file(tmp_path, verifier)
    with pytest.raises(EnvironmentRefusedError, match=re.escape(why)):
        registry.register(object(), object(), path)  # type: ignore[arg-type]  # refused before use
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "refused" in result.output
    assert why in " ".join(result.output.split())
    data = json.loads(runner.invoke(app, ["validate", str(path), "--json"]).output)
    assert data["valid"] is False
    assert why in data["audit"]["refusal"]


@pytest.mark.parametrize("name", [n for n in example_names() if n != "code"])
def test_the_shipped_examples_pass_the_audit(name: str) -> None:
    report = audit(gym.load_environment(example_path(name)))
    assert report.refusal() is None, report.refusal()
    assert report.reference_mean == 1.0


def test_the_code_example_passes_the_audit() -> None:
    report = check_registrable(gym.load_environment(example_path("code")))
    assert report.reference_mean == 1.0
    assert report.worst()[1] == 0.0


@pytest.mark.parametrize(
    "dataset", ["arc_agi", "countdown", "palindrome_generation", "sentence_reordering"]
)
def test_a_flat_format_reward_is_not_paid(dataset: str) -> None:
    """reasoning-gym gives 0.05 to any answer of the right shape; the gym gives it nothing."""
    env = _env(dataset)
    tasks = [t for t in _tasks(env, 4) if t.answer != "0"]
    assert all(_raw(dataset, "0", t) == 0.05 for t in tasks)
    for task in tasks:
        assert env.rubric(task, "0").value == 0.0
        assert env.rubric(task, str(task.answer)).value == 1.0
