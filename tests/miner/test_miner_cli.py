"""``worldgym mine`` refuses to start, before loading any model, when the miner has no bond."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner
from worlds import World, write_config

from worldgym.cli.app import app
from worldgym.deploy.anvil import AnvilProcess

pytestmark = pytest.mark.ml

_PASSWORD = "a miner's password"


def test_mine_without_a_bond_says_to_stake_first(
    world: World, anvil: AnvilProcess, tmp_path: Path
) -> None:
    config = write_config(world, anvil.url, _PASSWORD)
    address = world.account.address
    world.protocol.request_unbond(world.chain.stake_of(address))  # no longer bonded
    env = {"WORLDGYM_CONFIG": str(config), "WORLDGYM_PASSWORD": _PASSWORD}
    # A directory with no model in it: the bond check must come before the model is loaded.
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    args = ["mine", "--env", str(world.env_id), "--once", "--model", str(empty)]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 1, result.output
    assert f"{address} has 0 WGT staked but miners need a bond of 100 WGT" in (result.output)
    assert "`worldgym stake AMOUNT` first (AMOUNT at least 100)" in result.output
    assert "Traceback" not in result.output
