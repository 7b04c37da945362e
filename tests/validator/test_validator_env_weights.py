"""How a validator weighs environments: refused ones 0, new ones a floor, gains the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from worlds import World

from worldgym.gym.errors import SpecError
from worldgym.validator.env_weights import FLOOR, GainWeights, read_weights_file, weight_for_gain
from worldgym.validator.errors import ValidatorError


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


@pytest.mark.ml
def test_a_junk_spec_registered_on_the_contract_is_refused_by_validators(
    world: World, tmp_path: Path
) -> None:
    """The CLI refuses it, but anyone can call the contract: the validator audits it too."""
    from worldgym.gym.environment import load_spec
    from worldgym.gym.environments import example_path
    from worldgym.gym.errors import EnvironmentRefusedError
    from worldgym.gym.spec import EnvSpec
    from worldgym.storage import cid_to_bytes
    from worldgym.validator import BatchScorer

    base = load_spec(example_path("sums")).model_dump(mode="json", by_alias=True)
    junk = EnvSpec.model_validate({**base, "verifier": {"kind": "regex", "pattern": ".+"}})
    cid = world.store.put_bytes(junk.canonical_bytes(), pin=True)
    owner = world.chain.accounts[2]
    env_id = world.chain.register_environment_as(owner, cid_to_bytes(cid))
    scorer = BatchScorer(world.protocol, world.store, tmp_path / "models", world.account.address)
    with pytest.raises(EnvironmentRefusedError, match="ignores the reference") as first:
        scorer.environment(env_id, 1)
    with pytest.raises(EnvironmentRefusedError) as again:
        scorer.environment(env_id, 1)
    assert again.value is first.value  # audited once
    weights = GainWeights(world.protocol, world.store, scorer.environment)
    assert weights(world.chain.current_epoch(), [world.env_id, env_id])[env_id] == 0
