"""chain.contracts.Protocol against the real contracts: typed reads, writes through a sender."""

from __future__ import annotations

import os

import pytest

from worldgym.chain.contracts import Stage, Window
from worldgym.chain.protocol_math import (
    commitment,
    default_env_weights,
    make_lane,
    pack_env_weights,
    pack_lanes,
)
from worldgym.core.amounts import WAD
from worldgym.core.errors import UsageError
from worldgym.deploy.devchain import DevChain, raw_cid


def test_batches_come_back_from_events_in_index_order(chain: DevChain) -> None:
    owner, miner_a, miner_b = chain.accounts[1:4]
    env_id = chain.register_environment_as(owner, raw_cid(b"spec"))
    chain.send(chain.deployer, chain.models, "registerModel", raw_cid(b"m"), 0, b"", b"\0" * 32)
    for miner in (miner_a, miner_b):
        chain.bond_miner_as(miner)
    epoch = chain.current_epoch()
    submitted = []
    for i, miner in enumerate([miner_a, miner_b, miner_a]):
        record = chain.as_account(miner).submit_batch(env_id, 1, raw_cid(bytes([i])), 8 + i, 1)
        submitted.append(record)
    assert [r.sequence for r in submitted] == [0, 0, 1]
    assert chain.miner_batch_count(epoch, miner_a) == 2
    # A batch in the next epoch must not show up among this epoch's.
    chain.mine_to(chain.window(epoch, Window.SUBMIT)[1])
    chain.as_account(miner_b).submit_batch(env_id, 1, raw_cid(b"later"), 1, 1)

    batches = chain.batches(epoch)
    assert batches == submitted
    assert [(b.miner, b.trace_count, b.cid) for b in batches] == [
        (miner_a, 8, raw_cid(b"\0")),
        (miner_b, 9, raw_cid(b"\1")),
        (miner_a, 10, raw_cid(b"\2")),
    ]
    assert chain.batch_count(epoch) == 3
    assert chain.seed(epoch) is not None
    assert chain.batches(epoch + 5) == []


def test_commit_reveal_finalize_claim_through_the_client(chain: DevChain) -> None:
    owner, miner, validator = chain.accounts[1:4]
    env_id = chain.register_environment_as(owner, raw_cid(b"spec"))
    chain.send(chain.deployer, chain.models, "registerModel", raw_cid(b"m"), 0, b"", b"\0" * 32)
    chain.fund(validator, 5_000 * WAD)
    as_validator = chain.as_account(validator)
    as_validator.stake(2_000 * WAD)
    assert chain.stake_of(validator) == 2_000 * WAD
    epoch = chain.current_epoch()
    chain.fund(miner, 500 * WAD)
    as_miner = chain.as_account(miner)
    assert not as_miner.miner_bond(miner).bonded
    assert as_miner.bond_miner() == chain.deployment.params.miner_stake
    assert as_miner.miner_bond(miner).bonded
    assert as_miner.bond_miner() == 0
    as_miner.submit_batch(env_id, 1, raw_cid(b"b"), 4, 1)

    packed, salt = pack_lanes([make_lane(7_500, 42)]), os.urandom(32)
    weights = pack_env_weights(default_env_weights([env_id]))
    chain.mine_to(chain.window(epoch, Window.COMMIT)[0])
    as_validator.commit(epoch, commitment(epoch, validator, packed, weights, salt))
    record = chain.commitment(epoch, validator)
    assert (record.stake, record.revealed) == (2_000 * WAD, False)
    chain.mine_to(chain.window(epoch, Window.REVEAL)[0])
    as_validator.reveal(epoch, packed, weights, salt)
    assert chain.commitment(epoch, validator).revealed
    chain.mine_to(chain.window(epoch, Window.FINALIZE)[0])
    assert chain.finalization(epoch)[0] is Stage.SCORING
    done = False
    while not done:
        done = as_validator.finalize(epoch, 1)
    assert chain.consensus(epoch, 0) == 7_500
    assert chain.consensus_lane(epoch, 0) == make_lane(7_500, 42)
    assert chain.revealed_lane(epoch, validator, 0) == make_lane(7_500, 42)
    assert chain.env_weight(epoch, env_id).weight == 10_000
    assert chain.commitment(epoch, validator).agreement == 7_500 * 4
    due = chain.claimable(miner)
    assert due > 0
    before = chain.balance(miner)
    assert chain.as_account(miner).claim() == due
    assert chain.balance(miner) == before + due
    release = as_validator.request_unbond(500 * WAD)
    assert chain.unbonding_of(validator) == (500 * WAD, release, 0)


def test_writes_without_a_wallet_say_what_to_do(chain: DevChain) -> None:
    with pytest.raises(UsageError, match="wallet"):
        chain.claim()
