"""Each shipped example environment: a correct answer scores 1, a wrong one 0."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from worldgym import gym
from worldgym.gym.environments import example_names, example_path
from worldgym.gym.task import Task

SEED = "0x" + "9a" * 32
MINER = "0x" + "42" * 20


def _flip_every_role(task: Task) -> str:
    terms = task.metadata["knight_knave_terms"]
    knight, knave = f"is {terms['a_knight']}", f"is {terms['a_knave']}"
    return str(task.answer).replace(knight, "\0").replace(knave, knight).replace("\0", knave)


def _break_grid(task: Task) -> str:
    """Every cell wrong: each digit d becomes d % 4 + 1."""
    return "".join(str(int(c) % 4 + 1) if c.isdigit() else c for c in str(task.answer))


def _other_number(task: Task) -> str:
    return next(c for c in ("-987654", "424242", "5.5") if str(task.answer) not in c)


def _mixed_wrong(task: Task) -> str:
    if task.answer in ("Yes", "No"):
        return "No" if task.answer == "Yes" else "Yes"
    return _other_number(task)


def _tagged(answer: str) -> str:
    return f"Let me think.\n<answer>{answer}</answer>"


RIGHT: dict[str, Callable[[Task], str]] = {
    "arithmetic": lambda t: _tagged(str(t.answer)),
    "algebra": lambda t: f"The solution is $\\boxed{{{t.answer}}}$.",
    "logic": lambda t: _tagged(str(t.answer)),
    "puzzle": lambda t: _tagged(str(t.answer)),
    "code": lambda t: f"```python\n{t.answer}```",
    "words": lambda t: _tagged(str(t.answer)),
    "mixed": lambda t: _tagged(str(t.answer)),
    "sums": lambda t: _tagged(str(t.answer)),
}
WRONG: dict[str, Callable[[Task], str]] = {
    "arithmetic": lambda t: _tagged(_other_number(t)),
    "algebra": lambda t: f"\\boxed{{{_other_number(t)}}}",
    "logic": lambda t: _tagged(_flip_every_role(t)),
    "puzzle": lambda t: _tagged(_break_grid(t)),
    "code": lambda t: (
        "```python\n" + re.sub(r"return .*", "return 0", str(t.answer), count=1) + "```"
    ),
    "words": lambda t: _tagged(str(t.answer)[::-1] + "s"),
    "mixed": lambda t: _tagged(_mixed_wrong(t)),
    "sums": lambda t: _tagged(str(int(str(t.answer)) + 1)),
}


def test_every_example_has_a_right_and_a_wrong_answer() -> None:
    assert sorted(RIGHT) == sorted(WRONG) == example_names()


@pytest.mark.parametrize("name", example_names())
def test_correct_scores_one_and_wrong_scores_zero(name: str) -> None:
    env = gym.load_environment(example_path(name))
    for index in range(4):
        task = env.task(SEED, 11, 2, MINER, index)
        right = env.score(task, RIGHT[name](task))
        wrong = env.score(task, WRONG[name](task))
        assert right.value == 1.0, (task.question, right)
        assert wrong.value == 0.0, (task.question, wrong)


@pytest.mark.parametrize("name", example_names())
def test_prompt_is_system_then_user_with_the_question(name: str) -> None:
    env = gym.load_environment(example_path(name))
    task = env.task(SEED, 11, 2, MINER, 0)
    messages = env.prompt(task)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert task.question in messages[1]["content"]


def test_mixed_draws_from_every_part() -> None:
    env = gym.load_environment(example_path("mixed"))
    sources = {env.task(SEED, 11, 2, MINER, index).source for index in range(40)}
    assert sources == {
        "0:reasoning_gym/chain_sum",
        "1:reasoning_gym/syllogism",
        "2:reasoning_gym/letter_counting",
    }


def test_load_environment_is_cached_by_canonical_bytes() -> None:
    first = gym.load_environment(example_path("arithmetic"))
    assert gym.load_environment(gym.load_spec(example_path("arithmetic"))) is first
    assert gym.load_environment(example_path("arithmetic").read_bytes()) is first
