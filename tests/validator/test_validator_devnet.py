"""Validators on a devnet: consensus, a dishonest validator, a restart between commit and reveal.

Two honest validators (3,000 and 1,000 WGT staked) run the real loop; a
dishonest one (1,500 WGT) commits full marks for everything; a fourth commits
and never reveals. Batches: one mined by the tiny model, one written by a
"solver" with the model's numbers pasted in. The honest validator with less
stake is restarted (a new process state, same state file) between its commit
and the reveal window.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from forge import small_environment, solver_batch
from worlds import World, signing_account

from worldgym.chain.contracts import BatchRecord, Protocol, Window
from worldgym.chain.protocol_math import (
    commitment,
    default_env_weights,
    make_lane,
    pack_env_weights,
    pack_lanes,
)
from worldgym.core.amounts import WAD
from worldgym.core.schemas import encode_batch
from worldgym.policy.hf import TransformersPolicy
from worldgym.storage import cid_to_bytes
from worldgym.validator import BatchScorer, EpochState, Validator, ValidatorState

pytestmark = pytest.mark.ml


def _staked(world: World, amount: int) -> Protocol:
    protocol: Protocol = signing_account(world.chain)[2]
    world.chain.fund(protocol.sender.address, amount)  # type: ignore[union-attr]
    protocol.stake(amount)
    return protocol


def _validator(world: World, protocol: Protocol, root: Path) -> Validator:
    address = protocol.sender.address  # type: ignore[union-attr]
    scorer = BatchScorer(protocol, world.store, world.root / "models", address)
    return Validator(protocol, scorer, ValidatorState(root / "state.db"))


def _submit_solver_batch(world: World, policy: TransformersPolicy) -> str:
    cheat: Protocol = signing_account(world.chain)[2]
    chain = world.chain
    chain.fund(cheat.sender.address, chain.deployment.params.miner_stake)  # type: ignore[union-attr]
    cheat.bond_miner()
    epoch = chain.current_epoch()
    seed = cheat.poke_seed(epoch)
    miner = cheat.sender.address  # type: ignore[union-attr]
    record = BatchRecord(epoch, 0, miner, world.env_id, 1, 0, 2, world.model.id, b"", 0, "")
    env = small_environment()
    doc = solver_batch(
        env, policy, record=record, chain_id=chain.deployment.chain_id,
        contract=chain.gym.address, seed=seed, digest=world.model.cid, task_count=2,
    )  # fmt: skip
    cid: str = world.store.put_bytes(encode_batch(doc), pin=True)
    cheat.submit_batch(world.env_id, 1, cid_to_bytes(cid), doc.trace_count, world.model.id)
    return cid


def test_consensus_dishonest_validator_restart_and_slash(
    world: World, policy: TransformersPolicy, tmp_path: Path
) -> None:
    chain = world.chain
    miner, _ = world.miner(policy, tasks_per_batch=2)
    (mined,) = miner.mine_epoch()
    _submit_solver_batch(world, policy)
    epoch = mined.epoch
    assert chain.batch_count(epoch) == 2

    big, small = _staked(world, 3_000 * WAD), _staked(world, 1_000 * WAD)
    liar, silent = _staked(world, 1_500 * WAD), _staked(world, 1_000 * WAD)
    honest = [
        _validator(world, big, tmp_path / "big"),
        _validator(world, small, tmp_path / "small"),
    ]

    chain.mine_to(chain.window_opens(epoch, Window.COMMIT))
    for v in honest:
        assert any("committed" in line for line in v.step())
    scores = honest[0].state.get(epoch)
    assert scores is not None
    assert scores.scores == honest[1].state.get(epoch).scores  # type: ignore[union-attr]
    assert scores.scores[1] == 0
    assert "proof of rollout" in scores.reasons[1]
    assert scores.lanes == honest[1].state.get(epoch).lanes  # type: ignore[union-attr]
    assert scores.env_weights == {world.env_id: 10_000}  # the default: full weight
    salts = {}
    full_marks = [make_lane(10_000, 0)] * 2
    weights = pack_env_weights(default_env_weights([world.env_id]))
    for cheat, claims in ((liar, full_marks), (silent, scores.lanes)):
        address = cheat.sender.address  # type: ignore[union-attr]
        salts[address] = os.urandom(32)
        digest = commitment(epoch, address, pack_lanes(claims), weights, salts[address])
        cheat.commit(epoch, digest)

    # "Crash" the small validator after its commit: a new object on the same state file.
    honest[1].state.close()
    restarted = _validator(world, small, tmp_path / "small")
    assert restarted.state.get(epoch).state == EpochState.COMMITTED  # type: ignore[union-attr]

    chain.mine_to(chain.window_opens(epoch, Window.REVEAL))
    assert honest[0].step() == [f"epoch {epoch}: revealed"]
    assert restarted.step() == [f"epoch {epoch}: revealed"]
    liar_address = liar.sender.address  # type: ignore[union-attr]
    liar.reveal(epoch, pack_lanes(full_marks), weights, salts[liar_address])

    chain.mine_to(chain.window_opens(epoch, Window.FINALIZE))
    assert any("finalized" in line for line in honest[0].step())
    restarted.step()
    assert [chain.consensus_lane(epoch, i) for i in range(2)] == scores.lanes

    def claimed(p: Protocol) -> int:
        address = p.sender.address  # type: ignore[union-attr]
        return int(chain.gym.functions.claimedBy(address).call()) + p.claimable(address)

    assert claimed(liar) < claimed(small), "the dishonest validator must earn less"
    assert small.stake_of(small.sender.address) == 1_000 * WAD  # type: ignore[union-attr]
    slashed = silent.stake_of(silent.sender.address)  # type: ignore[union-attr]
    assert slashed == 1_000 * WAD * (10_000 - chain.deployment.params.slash_bps) // 10_000
