"""One reasoning-gym call cannot change another's tasks or scores through shared state.

``decimal_arithmetic`` sets the thread's decimal precision to its config's
``precision`` as it generates a task; ``decimal_chain_sum`` does Decimal
arithmetic in whatever context it finds. In one process (a validator scoring
an epoch) the second would then derive other tasks than on a fresh machine.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Iterator

import pytest
import reasoning_gym

from worldgym import gym
from worldgym.gym.derive import item_seed

RG = "0.1.25"
SEED = "0x" + "5c" * 32
MINER = "0x" + "42" * 20


def _env(dataset: str, config: dict[str, object]) -> gym.Environment:
    spec = {
        "schema": "worldgym.env/1",
        "name": dataset.replace("_", "-"),
        "generator": {
            "kind": "reasoning_gym", "dataset": dataset, "reasoning_gym_version": RG,
            "config": config,
        },
        "verifier": {"kind": "reasoning_gym"},
    }  # fmt: skip
    return gym.load_environment(json.dumps(spec).encode())


@pytest.fixture
def restored_context() -> Iterator[None]:
    saved = decimal.getcontext().copy()
    yield
    decimal.setcontext(saved)


@pytest.mark.usefixtures("restored_context")
def test_a_dataset_that_sets_the_decimal_context_cannot_change_another_s_tasks() -> None:
    chain = _env("decimal_chain_sum", {"min_decimal_places": 4, "max_decimal_places": 4})
    low = _env("decimal_arithmetic", {"precision": 6, "max_num_decimal_places": 3})
    fresh = [chain.task(SEED, 1, 1, MINER, i) for i in range(12)]

    low.task(SEED, 2, 1, MINER, 0)  # generating in the gym leaves the thread's context alone
    assert decimal.getcontext().prec == 28
    reasoning_gym.create_dataset("decimal_arithmetic", precision=6, seed=0, size=1)[0]
    assert decimal.getcontext().prec == 6  # what reasoning-gym alone does to the thread

    # reasoning-gym alone now derives other items than a fresh interpreter would ...
    dataset = reasoning_gym.create_dataset(
        "decimal_chain_sum", min_decimal_places=4, max_decimal_places=4, seed=0, size=2**32
    )
    raw = [dataset[item_seed(t.task_seed)]["answer"] for t in fresh]
    assert raw != [t.answer for t in fresh]
    # ... the gym derives and scores exactly what it did before
    again = [chain.task(SEED, 1, 1, MINER, i) for i in range(12)]
    assert [(t.question, t.answer) for t in again] == [(t.question, t.answer) for t in fresh]
    for task in again:
        assert chain.score(task, f"<answer>{task.answer}</answer>").value == 1.0
