"""``worldgym stake | unstake | verify-batch | claim`` through the real CLI on a devnet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner
from worlds import World, write_config

from worldgym.cli.app import app
from worldgym.core.amounts import WAD
from worldgym.deploy.anvil import AnvilProcess
from worldgym.policy.hf import TransformersPolicy

pytestmark = pytest.mark.ml

_PASSWORD = "a validator's password"


def _cli(config: Path, *args: str) -> tuple[int, str]:
    env = {"WORLDGYM_CONFIG": str(config), "WORLDGYM_PASSWORD": _PASSWORD}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output + (repr(result.exception) if result.exit_code else "")


def test_stake_unstake_and_nothing_to_claim(world: World, anvil: AnvilProcess) -> None:
    config = write_config(world, anvil.url, _PASSWORD)
    world.chain.fund(world.account.address, 2_000 * WAD)
    code, out = _cli(config, "stake", "1500")
    assert code == 0, out
    bond = world.chain.deployment.params.miner_stake  # the world's account is a bonded miner
    assert world.chain.stake_of(world.account.address) == bond + 1_500 * WAD
    code, out = _cli(config, "unstake", "500.5")
    assert code == 0, out
    assert "withdraw from epoch" in out
    assert world.chain.unbonding_of(world.account.address)[0] == 500_500_000_000_000_000_000
    code, out = _cli(config, "stake", "-3")
    assert code != 0
    assert "must be more than zero" in out
    nonce = world.chain.w3.eth.get_transaction_count(world.account.address)
    code, out = _cli(config, "claim")
    assert code == 0, out
    assert f"nothing to claim for {world.account.address}" in out
    assert world.chain.w3.eth.get_transaction_count(world.account.address) == nonce  # no tx
    assert "Traceback" not in out


def test_verify_batch_scores_a_file_and_explains_a_rejection(
    world: World, anvil: AnvilProcess, policy: TransformersPolicy, tmp_path: Path
) -> None:
    config = write_config(world, anvil.url, _PASSWORD)
    miner, spool = world.miner(policy, tasks_per_batch=2)
    (entry,) = miner.mine_epoch()
    document = spool.document_path(entry.cid)
    common = [
        "--env",
        str(world.env_id),
        "--epoch",
        str(entry.epoch),
        "--miner",
        world.account.address,
    ]

    code, out = _cli(config, "verify-batch", str(document), *common, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["where"].startswith("on chain as batch 0")
    assert len(report["traces"]) == 4
    assert "traces correct" in report["reason"]
    assert "learning signal" in report["reason"]
    assert report["fraud"] is False

    code, out = _cli(config, "verify-batch", entry.cid, *common, "--json")
    assert code == 0, out
    assert json.loads(out)["score"] == report["score"]

    bad = tmp_path / "bad.json"
    bad.write_bytes(document.read_bytes()[:100])
    code, out = _cli(config, "verify-batch", str(bad), *common)
    assert code == 0, out
    assert "rejected: batch is not valid JSON" in out

    code, out = _cli(
        config, "verify-batch", str(document), "--env", "1", "--epoch", "0", "--miner", "nope"
    )
    assert code != 0
    assert "not an address" in out
