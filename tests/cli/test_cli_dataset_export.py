"""`dataset export` names every batch it could not read and exits 1 (it used to say nothing)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from worldgym.chain.protocol_math import commitment, make_lane, pack_env_weights, pack_lanes
from worldgym.cli.app import app
from worldgym.core.amounts import WAD
from worldgym.deploy.anvil import AnvilProcess
from worldgym.deploy.devchain import DevChain, Window, raw_cid
from worldgym.storage import cid_from_bytes


def _finalized_epoch_with_a_missing_batch(chain: DevChain) -> tuple[int, str]:
    """One batch whose document is in no store, scored 5,000 by consensus; the epoch
    finalized. Returns the epoch and the batch's CID."""
    env = chain.register_environment_as(chain.accounts[1], raw_cid(b"spec"))
    chain.send(chain.deployer, chain.models, "registerModel", raw_cid(b"m"), 0, b"", b"\0" * 32)
    miner, validator = chain.accounts[2], chain.accounts[3]
    chain.bond_miner_as(miner)
    chain.stake_as(validator, 2_000 * WAD)
    epoch = chain.current_epoch()
    missing = raw_cid(b"a batch nobody pinned")
    chain.send(miner, chain.gym, "submitBatch", env, 1, missing, 4, 1)
    lanes, weights, salt = [make_lane(5_000, 1)], pack_env_weights({env: 10_000}), os.urandom(32)
    chain.mine_to(chain.window_opens(epoch, Window.COMMIT))
    digest = commitment(epoch, validator, pack_lanes(lanes), weights, salt)
    chain.send(validator, chain.gym, "commit", epoch, digest)
    chain.mine_to(chain.window_opens(epoch, Window.REVEAL))
    chain.send(validator, chain.gym, "reveal", epoch, pack_lanes(lanes), weights, salt)
    chain.mine_to(chain.window_opens(epoch, Window.FINALIZE))
    chain.finalize_all(epoch, 64)
    return epoch, cid_from_bytes(missing)


def test_an_unreadable_batch_is_reported_and_the_export_fails(
    chain: DevChain, anvil: AnvilProcess, tmp_path: Path
) -> None:
    epoch, cid = _finalized_epoch_with_a_missing_batch(chain)
    manifest = tmp_path / "manifest.json"
    chain.deployment.save(manifest)
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\nnetwork = "t"\n[networks.t]\nrpc_url = "{anvil.url}"\n'
        f'chain_id = {chain.deployment.chain_id}\nmanifest = "{manifest}"\n'
    )
    out = tmp_path / "traces.jsonl"
    result = CliRunner().invoke(
        app,
        ["dataset", "export", "--epochs", f"{epoch}:{epoch}", "--out", str(out), "--json"],
        env={"WORLDGYM_CONFIG": str(config)},
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert report["rows"] == 0
    (bad,) = report["unreadable"]
    assert (bad["epoch"], bad["index"], bad["cid"]) == (epoch, 0, cid)
    assert "not available in storage" in bad["reason"]
    assert f"epoch {epoch} batch 0 ({cid})" in result.output
    assert "1 batch(es) could not be read" in result.output
    assert "Traceback" not in result.output
