"""How a validator weighs environments: refused ones 0, new ones a floor, gains the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from worlds import World

from gym.errors import SpecError
from validator.env_weights import FLOOR, GainWeights, read_weights_file, weight_for_gain
from validator.errors import ValidatorError


def test_weight_grows_with_the_measured_gain() -> None:
    assert weight_for_gain(None) == FLOOR  # never measured: mined so it can be
    assert weight_for_gain(-0.2) == FLOOR  # training on it did not help
    assert weight_for_gain(0.05) == FLOOR + (10_000 - FLOOR) // 2
    assert weight_for_gain(0.5) == 10_000
    assert weight_for_gain(0.05, floor=0) == 5_000


@pytest.mark.ml
def test_on_a_devnet_refused_environments_weigh_nothing(world: World) -> None:
    def loads(env_id: int, version: int) -> None:
        if env_id == 7:
            raise SpecError("its verifier ignores the reference answer")

    policy = GainWeights(world.protocol, world.store, loads, overrides={9: 1_234})
    epoch = world.chain.current_epoch()
    assert policy(epoch, [world.env_id, 7, 9]) == {world.env_id: FLOOR, 7: 0, 9: 1_234}
    assert policy.gains() == {}  # the registered base model has no metrics yet


def test_weights_file_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"1": 10_000, "4": 0}))
    assert read_weights_file(path) == {1: 10_000, 4: 0}
    for bad in ({"x": 1}, {"1": 10_001}, {"1": 0.5}, [1, 2]):
        path.write_text(json.dumps(bad))
        with pytest.raises(ValidatorError, match=r"weight|object"):
            read_weights_file(path)
    with pytest.raises(ValidatorError, match="cannot read"):
        read_weights_file(tmp_path / "missing.json")
