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
    GROUP,
    Chain,
    Submission,
    buried,
    fast_config,
    make_chain,
    play_epoch,
    right,
    right_or_not,
)

from worldgym.deploy.devchain import DevChain
from worldgym.ledger.metrics import metrics_resolver
from worldgym.ledger.reports import ModelRow
from worldgym.policy.errors import CheckpointError
from worldgym.policy.metrics import checkpoint_metrics, read_metrics
from worldgym.refinery.curve import CURVE_NAME, load_history
from worldgym.refinery.dataset import read_dataset_manifest, read_rows
from worldgym.refinery.groups import DROP_UNINFORMATIVE
from worldgym.refinery.runs import RunDir, RunStage
from worldgym.refinery.service import Refinery
from worldgym.storage import cid_from_bytes

pytestmark = [pytest.mark.ml, pytest.mark.slow]


@pytest.fixture
def world(chain: DevChain, sums_model_dir: Path, tmp_path: Path) -> Chain:
    return make_chain(chain, sums_model_dir, tmp_path)


class CrashError(Exception):
    """Stands for the process dying at a stage boundary."""


def crash_at(stage: RunStage) -> Any:
    def hook(reached: RunStage, _state: dict[str, Any]) -> None:
        if reached is stage:
            raise CrashError(stage.value)

    return hook


def test_publishes_a_model_with_its_lineage_and_survives_crashes(world: Chain) -> None:
    a, b, c = world.miners
    epoch = play_epoch(
        world,
        [
            Submission(a, 24, right, 9_000),
            Submission(b, 24, right, 10_000),
            Submission(c, 8, right, 0),  # rejected by the validators: excluded
            Submission(b, 4, right, 10_000),  # never stored: excluded, with the reason
        ],
        unpinned=3,
    )
    chain = world.chain
    protocol = chain.as_account(chain.deployer)
    root = world.root / "refinery"
    config = fast_config(gate_margin=1.0)  # lineage and crash safety: the gate has its own test

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
    assert env["parent"]["pass_at_1"] > 0, "the warmed-up base is sometimes right"
    assert metrics["pass_at_1"]["candidate"] == env["candidate"]["pass_at_1"]
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
    with pytest.raises(CheckpointError, match="does not hash"):
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
    play_epoch(world, [Submission(a, 24, buried, 10_000), Submission(b, 24, buried, 10_000)])
    protocol = world.chain.as_account(world.chain.deployer)
    root = world.root / "refinery"
    outcome = Refinery(protocol, world.store, root, fast_config()).run_once()
    assert outcome.stage is RunStage.REJECTED, outcome.message
    p = outcome.state["metrics"]["pass_at_1"]
    assert p["candidate"] < p["parent"]
    assert world.chain.latest_model_id() == world.base.id
    assert load_history(root)[-1]["accepted"] is False
    assert "model_id" not in load_history(root)[-1]


def test_grpo_trains_on_the_informative_groups_and_records_the_algorithm(world: Chain) -> None:
    a, b, _ = world.miners
    epoch = play_epoch(
        world,
        [
            Submission(a, 12, right_or_not, 5_000),  # every group passes once and fails once
            Submission(b, 6, right, 0),  # all pass: no signal (and a consensus of 0)
            Submission(b, 5, right_or_not, 5_000),
        ],
    )
    protocol = world.chain.as_account(world.chain.deployer)
    root = world.root / "refinery"
    config = fast_config(algorithm="grpo", gate_margin=1.0)  # the plumbing, not the gate
    outcome = Refinery(protocol, world.store, root, config).run_once()
    assert outcome.stage is RunStage.REGISTERED, outcome.message
    record = world.chain.model(world.chain.latest_model_id())
    manifest = read_dataset_manifest(world.store, cid_from_bytes(record.dataset_cid))
    assert manifest["algorithm"] == "grpo"
    assert manifest["counts"]["groups"] == 12 + 5
    assert manifest["counts"]["traces"] == (12 + 5) * GROUP
    assert [g["scores"] for g in manifest["groups"]] == [[1.0, 0.0]] * 17
    assert {(g["epoch"], g["batch_index"]) for g in manifest["groups"]} == {(epoch, 0), (epoch, 2)}
    batch_1 = next(d for d in manifest["batches"] if d["index"] == 1)
    assert "below the minimum" in batch_1["excluded"]  # consensus 0: never read
    rows = read_rows(world.store, manifest["data"]["cid"])
    assert len(rows) == 34
    assert all(r["model"]["digest"] == world.base.cid for r in rows)
    assert all(len(r["tokens"]) == len(r["logprobs"]) > 0 for r in rows)
    metrics = outcome.state["metrics"]
    assert metrics["algorithm"] == "grpo"
    assert metrics["train"]["config"]["grpo"]["clip_high"] == 0.28
    assert metrics["train"]["behaviour_recomputed"] == 0  # T = 1, top-p 1: recorded are exact
    assert load_history(root)[-1]["algorithm"] == "grpo"


def test_grpo_drops_groups_that_all_scored_the_same(world: Chain) -> None:
    a, _, _ = world.miners
    play_epoch(world, [Submission(a, 8, right, 5_000)])  # every sample passes
    protocol = world.chain.as_account(world.chain.deployer)
    config = fast_config(algorithm="grpo")
    outcome = Refinery(protocol, world.store, world.root / "refinery", config).run_once()
    assert outcome.stage is RunStage.EMPTY, outcome.message
    assert outcome.state["counts"]["dropped"] == {DROP_UNINFORMATIVE: 8 * GROUP}
