"""Generator configs are bounded per dataset, so that no task derivation can hang or crash.

The sweep (marked slow; ``pytest -m slow``) puts every number field of every
dataset at its bound and derives tasks: each must be refused by reasoning-gym's
own config checks with a reason, or derive well inside the 10 s derivation
deadline (the bounds were set so a task takes at most ~250 ms of CPU on an idle
core; the test allows 2 s, a fifth of the deadline, so a loaded CI machine does
not fail it) with questions and answers under 100,000 characters. The default run checks the
datasets the bounds were measured on.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping

import pytest
from reasoning_gym.factory import DATASETS

from worldgym import gym
from worldgym.gym.errors import SpecError
from worldgym.gym.generators._rg_bounds import (
    FIELD_LIMITS,
    SCALES,
    check_config_bounds,
    field_bounds,
)
from worldgym.gym.generators._rg_catalog import EXCLUDED, HASH_SEED_DEPENDENT

RG = "0.1.25"
ALL = sorted(d for d in DATASETS if d not in EXCLUDED)
CPU_MS = 2_000.0
SIZE = 100_000


def _bound_config(dataset: str, lows_too: bool) -> dict[str, int]:
    """Every integer field at the top of its bound (``min_*`` too with ``lows_too``)."""
    config_class = DATASETS[dataset][1]
    defaults = {f.name: f.default for f in dataclasses.fields(config_class)}
    out = {}
    for name, (_, high) in field_bounds(dataset, config_class).items():
        if isinstance(defaults.get(name), int) and (lows_too or not name.startswith("min_")):
            out[name] = int(high)
    return out


def _spec(dataset: str, config: Mapping[str, object]) -> bytes:
    return json.dumps(
        {
            "schema": "worldgym.env/1",
            "name": "bound",
            "generator": {
                "kind": "reasoning_gym", "dataset": dataset, "reasoning_gym_version": RG,
                "config": config,
            },
            "verifier": {"kind": "reasoning_gym"},
        }
    ).encode()  # fmt: skip


@pytest.mark.parametrize("dataset", ALL)
def test_every_default_config_is_within_its_bounds(dataset: str) -> None:
    config_class = DATASETS[dataset][1]
    defaults = {
        f.name: f.default
        for f in dataclasses.fields(config_class)
        if f.name not in ("seed", "size") and isinstance(f.default, int | float | bool)
    }
    limited = {name: limit for (d, name), limit in FIELD_LIMITS.items() if d == dataset}
    check_config_bounds(dataset, config_class, {**defaults, **limited})


def test_a_default_known_to_be_slow_must_be_set_lower() -> None:
    with pytest.raises(SpecError, match=r"max_board_size: the default 9 derives too slowly"):
        gym.load_spec(_spec("futoshiki", {}))
    gym.load_spec(_spec("futoshiki", {"min_board_size": 4, "max_board_size": 7}))


def test_scale_one_keeps_every_field_at_its_largest_default() -> None:
    bounds = field_bounds("basic_arithmetic", DATASETS["basic_arithmetic"][1])
    assert SCALES["basic_arithmetic"] == 1.0
    assert bounds["max_terms"] == (-6, 6)
    assert bounds["max_digits"] == (-4, 4)
    assert field_bounds("chain_sum", DATASETS["chain_sum"][1])["max_terms"] == (-12, 12)


@pytest.mark.parametrize(
    ("dataset", "config", "why"),
    [
        ("basic_arithmetic", {"max_digits": 5}, r"max_digits: must lie in \[-4, 4\]"),
        ("tower_of_hanoi", {"max_disks": 40}, r"max_disks: must lie in \[-14, 14\]"),
        ("spell_backward", {"data_file": "/etc/passwd"}, "names a file the dataset reads"),
        ("basic_arithmetic", {"operators": ["+", "**"]}, r"must be a subset of \['\+'"),
        ("basic_arithmetic", {"format_style": "haiku"}, r"must be one of \['simple', 'natural'\]"),
        ("complex_arithmetic", {"operations_weights": [1, 1, 1, 1, 1]}, "at most 4 weights"),
        ("aiw", {"male_names": ["Robert'); DROP"]}, "words of letters"),
        ("time_intervals", {"min_date": "1900-01-01"}, "cannot be set in a spec"),
        ("knights_knaves", {"n_people": True}, "must be an integer"),
    ],
)
def test_a_config_outside_its_bound_is_refused_with_the_reason(
    dataset: str, config: dict[str, object], why: str
) -> None:
    with pytest.raises(SpecError, match=why):
        gym.load_spec(_spec(dataset, config))


def _derive_at_bound(dataset: str, lows_too: bool) -> None:
    refused = ""
    try:
        env = gym.load_environment(_spec(dataset, _bound_config(dataset, lows_too)))
    except SpecError as exc:  # reasoning-gym's own config checks, with their reason
        refused = str(exc)
    if refused:
        assert "took longer" not in refused
        assert "characters; the limit" not in refused
        return
    for index in range(4):
        start = time.process_time()
        task = env.task("0x" + "ab" * 32, 1, 1, "0x" + "cd" * 20, index)
        if dataset not in HASH_SEED_DEPENDENT:  # those derive in a child: its CPU is not ours
            assert (time.process_time() - start) * 1000 < CPU_MS, f"task {index} slow"
        assert len(task.question) < SIZE
        assert len(str(task.answer)) < SIZE


@pytest.mark.parametrize("dataset", ["basic_arithmetic", "knights_knaves", "tower_of_hanoi"])
def test_the_issue_s_datasets_derive_cheaply_at_their_bounds(dataset: str) -> None:
    _derive_at_bound(dataset, lows_too=True)


@pytest.mark.slow
@pytest.mark.parametrize("lows_too", [False, True], ids=["max", "min-and-max"])
@pytest.mark.parametrize("dataset", ALL)
def test_every_dataset_derives_cheaply_at_its_bounds(dataset: str, lows_too: bool) -> None:
    _derive_at_bound(dataset, lows_too)
