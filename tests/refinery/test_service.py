"""The refinery on a devnet: finalized epochs of hand-made batches -> a registered model, or not.

Real parts throughout: anvil with the deployed contracts, the embedded store,
reasoning-gym tasks, the tiny model trained with TRL and evaluated by
sampling. The gate's two outcomes come from what the traces teach (see
``refinery_world``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak
from refinery_world import (
    Chain,
    Submission,
    buried_digit,
    digit_first,
    fast_config,
    make_chain,
    play_epoch,
)

from deploy.devchain import DevChain
from ledger.metrics import metrics_resolver
from ledger.reports import ModelRow
from refinery.curve import CURVE_NAME, load_history
from refinery.dataset import read_dataset_manifest, read_rows
from refinery.errors import RefineryError
from refinery.publish import checkpoint_metrics, read_metrics
from refinery.runs import RunDir, RunStage
from refinery.service import Refinery
from storage import cid_from_bytes

pytestmark = [pytest.mark.ml, pytest.mark.slow]


@pytest.fixture
def world(chain: DevChain, model_dir: Path, tmp_path: Path) -> Chain:
    return make_chain(chain, model_dir, tmp_path)


class CrashError(Exception):
    """Stands for the process dying at a stage boundary."""


def crash_at(stage: RunStage) -> Any:
    def hook(reached: RunStage, _state: dict[str, Any]) -> None:
        if reached is stage:
            raise CrashError(stage.value)

    return hook


def test_publishes_a_better_model_with_its_lineage_and_survives_crashes(world: Chain) -> None:
    a, b, c = world.miners
    epoch = play_epoch(
        world,
        [
            Submission(a, 24, digit_first, 9_000),
            Submission(b, 24, digit_first, 10_000),
            Submission(c, 8, digit_first, 0),  # rejected by the validators: excluded
            Submission(b, 4, digit_first, 10_000),  # never stored: excluded, with the reason
        ],
        unpinned=3,
    )
    chain = world.chain
    protocol = chain.as_account(chain.deployer)
    root = world.root / "refinery"
    config = fast_config()

    # A crash after pinning, before registering, leaves nothing half-registered.
    crashing = Refinery(protocol, world.store, root, config, on_stage=crash_at(RunStage.PINNED))
    with pytest.raises(CrashError):
        crashing.run_once()
    assert chain.latest_model_id() == world.base.id

    refinery = Refinery(protocol, world.store, root, config)
    plan = refinery.plan()
    assert plan is not None
    assert plan.epochs == (epoch,)
    outcome = refinery.run_once()
    assert outcome.stage is RunStage.REGISTERED, outcome.message
    model_id = outcome.model_id
    assert model_id is not None
    assert model_id == chain.latest_model_id() == world.base.id + 1

    # Lineage on chain = what the pinned documents say.
    record = chain.model(model_id)
    assert record.parent_id == world.base.id
    manifest = read_dataset_manifest(world.store, cid_from_bytes(record.dataset_cid))
    assert manifest["epochs"] == [epoch]
    assert manifest["parent_model"] == {"id": world.base.id, "cid": world.base.cid}
    decisions = {(d["epoch"], d["index"]): d for d in manifest["batches"]}
    assert [decisions[(epoch, i)]["selected"] for i in range(4)] == [24, 24, 0, 0]
    assert "below the minimum" in decisions[(epoch, 2)]["excluded"]
    assert "not available in storage" in decisions[(epoch, 3)]["excluded"]
    assert manifest["counts"]["traces"] == 48 == len(manifest["traces"])
    rows = read_rows(world.store, manifest["data"]["cid"])
    assert len(rows) == 48
    assert all(r["messages"][-1]["role"] == "assistant" for r in rows)
    state = RunDir(root, outcome.plan.key).state()  # type: ignore[union-attr]
    metrics = read_metrics(world.store, state["metrics_cid"], record.metrics_digest)
    assert record.metrics_digest == bytes(
        keccak(json.dumps(metrics, sort_keys=True, separators=(",", ":")).encode())
    )
    assert metrics["dataset"] == cid_from_bytes(record.dataset_cid)
    assert metrics["gate"]["accepted"] is True
    env = metrics["eval"]["environments"][str(world.env_id)]
    assert env["candidate"]["pass_at_1"] >= env["parent"]["pass_at_1"]
    assert state["checkpoint_cid"] == cid_from_bytes(record.checkpoint_cid)

    # The same epochs again: nothing new (the lineage already used them).
    assert refinery.plan() is None
    again = refinery.run(plan)
    assert again.model_id == model_id
    assert "already done" in again.message

    # A crash after the transaction but before the state was written: no second model.
    rd = RunDir(root, plan.key)
    rd.advance(RunStage.PINNED)
    resumed = refinery.run(plan)
    assert resumed.model_id == model_id
    assert chain.models.functions.modelCount().call() == model_id

    (round_1,) = load_history(root)
    assert (round_1["round"], round_1["accepted"], round_1["run"]) == (1, True, plan.key)
    (scores,) = round_1["environments"].values()
    assert scores["candidate"] == env["candidate"]["pass_at_1"]
    assert (root / CURVE_NAME).read_bytes().startswith(b"\x89PNG")
    # where the ledger finds the metrics: the history names the model and holds the document,
    # and the checkpoint carries it, so a machine without the history finds it from the chain
    assert round_1["model_id"] == model_id
    assert round_1["metrics"] == metrics
    checkpoint = cid_from_bytes(record.checkpoint_cid)
    assert checkpoint_metrics(world.store, checkpoint, record.metrics_digest) == metrics
    with pytest.raises(RefineryError, match="does not hash"):
        checkpoint_metrics(world.store, checkpoint, bytes(32))
    row = ModelRow(
        model_id=model_id, parent_id=1, registrar=record.registrar, block=0,
        checkpoint_cid=checkpoint, dataset_cid=None,
        metrics_digest="0x" + record.metrics_digest.hex(), batches=0, traces=0,
    )  # fmt: skip
    found = metrics_resolver(None, world.store)(row)
    assert found is not None
    assert found[:2] == (metrics, True)


def test_the_gate_refuses_a_worse_model(world: Chain) -> None:
    a, b, _ = world.miners
    play_epoch(
        world, [Submission(a, 24, buried_digit, 10_000), Submission(b, 24, buried_digit, 10_000)]
    )
    protocol = world.chain.as_account(world.chain.deployer)
    root = world.root / "refinery"
    outcome = Refinery(protocol, world.store, root, fast_config()).run_once()
    assert outcome.stage is RunStage.REJECTED, outcome.message
    p = outcome.state["metrics"]["pass_at_1"]
    assert p["candidate"] < p["parent"]
    assert world.chain.latest_model_id() == world.base.id
    assert load_history(root)[-1]["accepted"] is False
    assert "model_id" not in load_history(root)[-1]
