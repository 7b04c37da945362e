"""One whole epoch on a real anvil with the real compiled contracts, checked to the wei.

Two environments with different owners, bonded miners, four batches (one of them
flagged FRAUD by the stake majority), three validators with different stakes and
environment weights (and a fourth that commits but never reveals), commit,
reveal, finalize in chunks, claim; the Python model of the protocol
(worldgym.chain.protocol_math) predicts every consensus lane, environment weight, credit,
slash and the carry independently.
"""

from __future__ import annotations

import os

from web3.logs import DISCARD

from worldgym.chain.protocol_math import (
    FRAUD,
    BatchInput,
    ValidatorReveal,
    commitment,
    make_lane,
    pack_env_weights,
    pack_lanes,
    predict_epoch,
    unpack_env_weights,
    unpack_lanes,
)
from worldgym.core.amounts import WAD
from worldgym.deploy.devchain import DevChain, Window, raw_cid
from worldgym.gym.derive import task_seed


def test_one_epoch_pays_everyone_to_the_wei(chain: DevChain) -> None:
    p = chain
    deployer, owner_a, owner_b, miner_a, miner_b = p.accounts[:5]
    val_a, val_b, val_c, val_lazy = p.accounts[5:9]
    params = p.deployment.params
    genesis_supply = p.token.functions.totalSupply().call()

    stakes = {val_a: 3_000 * WAD, val_b: 1_000 * WAD, val_c: 1_200 * WAD, val_lazy: 1_500 * WAD}
    for validator, amount in stakes.items():
        p.stake_as(validator, amount)
    for miner in (miner_a, miner_b):
        assert p.bond_miner_as(miner) == params.miner_stake
        assert p.bond_miner_as(miner) == 0, "already bonded"
    p.stake_as(miner_b, 40 * WAD)
    p.send(miner_b, p.staking, "requestUnbond", 40 * WAD)  # still slashable while unbonding

    env_a = p.register_environment_as(owner_a, raw_cid(b'{"schema":"worldgym.env/1","n":"a"}'))
    env_b = p.register_environment_as(owner_b, raw_cid(b'{"schema":"worldgym.env/1","n":"b"}'))
    assert (env_a, env_b) == (1, 2)
    p.send(deployer, p.models, "registerModel", raw_cid(b"base model"), 0, b"", b"\0" * 32)

    epoch = p.current_epoch()
    submitted = [
        (miner_a, env_a, 10),
        (miner_b, env_b, 20),
        (miner_a, env_a, 5),
        (miner_b, env_a, 8),
    ]
    for i, (miner, env, count) in enumerate(submitted):
        receipt = p.send(
            miner, p.gym, "submitBatch", env, 1, raw_cid(f"batch {i}".encode()), count, 1
        )
        (event,) = p.gym.events.BatchSubmitted().process_receipt(receipt, errors=DISCARD)
        assert (event.args.epoch, event.args.index, event.args.miner) == (epoch, i, miner)
    assert p.batch_count(epoch) == 4
    seed = p.seed(epoch)
    assert seed is not None
    assert p.gym.functions.taskSeed(seed, 1, 1, miner_a, 7).call() == task_seed(
        seed, 1, 1, miner_a, 7
    )

    # val_a and val_c (4,200 of the 5,200 revealed stake) agree on every lane, val_b differs on
    # batch 2's digest and does not flag batch 3. Weights: env 2 is weighed low by the majority.
    lanes = {
        val_a: [
            make_lane(8_000, 5),
            make_lane(5_000, 9),
            make_lane(10_000, 1),
            make_lane(FRAUD, 0),
        ],
        val_b: [
            make_lane(8_000, 5),
            make_lane(6_000, 9),
            make_lane(10_000, 2),
            make_lane(7_000, 3),
        ],
        val_c: [
            make_lane(8_000, 5),
            make_lane(5_000, 9),
            make_lane(10_000, 1),
            make_lane(FRAUD, 0),
        ],
        val_lazy: [make_lane(10_000, 0)] * 4,
    }
    weights = {
        val_a: {env_a: 7_000, env_b: 2_000},
        val_b: {env_a: 10_000, env_b: 10_000},
        val_c: {env_a: 6_000},
        val_lazy: {env_a: 10_000, env_b: 10_000},
    }
    salts = {v: os.urandom(32) for v in lanes}
    p.mine_to(p.window_opens(epoch, Window.COMMIT))
    for validator, mine in lanes.items():
        packed, env_words = pack_lanes(mine), pack_env_weights(weights[validator])
        digest = commitment(epoch, validator, packed, env_words, salts[validator])
        assert (
            p.gym.functions.commitmentOf(
                epoch, validator, packed, env_words, salts[validator]
            ).call()
            == digest
        )
        p.send(validator, p.gym, "commit", epoch, digest)
    assert p.seed(epoch + 1) is not None, "the first commit pokes the next epoch's seed"

    p.mine_to(p.window_opens(epoch, Window.REVEAL))
    for validator in (val_a, val_b, val_c):
        packed, env_words = pack_lanes(lanes[validator]), pack_env_weights(weights[validator])
        receipt = p.as_account(validator).reveal(epoch, packed, env_words, salts[validator])
        (event,) = p.gym.events.Revealed().process_receipt(receipt, errors=DISCARD)
        assert unpack_lanes(event.args.packedLanes, 4) == lanes[validator]
        assert unpack_env_weights(event.args.envWeights) == weights[validator]
        assert [p.revealed_lane(epoch, validator, i) for i in range(4)] == lanes[validator]

    miner_stakes = {m: (p.stake_of(m), p.unbonding_of(m)[0]) for m in (miner_a, miner_b)}
    predicted = predict_epoch(
        batches=[
            BatchInput(m, env, owner_a if env == env_a else owner_b, n) for m, env, n in submitted
        ],
        validators=[
            ValidatorReveal(v, stakes[v], lanes[v] if v != val_lazy else None, weights[v])
            for v in lanes
        ],
        emission=p.token.functions.emissionOf(epoch).call(),
        miner_bps=params.miner_bps,
        validator_bps=params.validator_bps,
        environment_bps=params.environment_bps,
        slash_bps=params.slash_bps,
        miner_slash_bps=params.miner_slash_bps,
        stakes={**miner_stakes, val_lazy: (stakes[val_lazy], 0)},
    )
    assert predicted.scores == [8_000, 5_000, 10_000, FRAUD]
    assert predicted.env_weights == {env_a: 7_000, env_b: 2_000}
    assert predicted.weights == [80_000, 100_000, 50_000, 0]
    assert set(predicted.miner_slashes) == {3}

    p.mine_to(p.window_opens(epoch, Window.FINALIZE))
    calls, _ = p.finalize_all(epoch, chunk=3)
    assert calls == 5  # 4 batches + settle + 4 payouts + 4 validators = 13 steps, 3 a call

    assert [p.consensus_lane(epoch, i) for i in range(4)] == predicted.consensus
    assert [p.consensus(epoch, i) for i in range(4)] == predicted.scores
    for env, weight in predicted.env_weights.items():
        record = p.env_weight(epoch, env)
        assert (record.weight, record.batch_weight, record.weighed) == (
            weight,
            predicted.env_batch_weights[env],
            True,
        )
    settled = p.gym.functions.settlement(epoch).call()
    assert settled[0] == predicted.total_env_weight
    assert settled[2:] == [predicted.miner_pot, predicted.validator_pot, predicted.environment_pot]
    for validator in (val_a, val_b, val_c):
        assert p.commitment(epoch, validator).agreement == predicted.agreement[validator]
    assert p.token.functions.totalSupply().call() == genesis_supply + predicted.minted
    assert set(predicted.credits) == {miner_a, miner_b, owner_a, owner_b, val_a, val_b, val_c}
    for account, amount in predicted.credits.items():
        assert p.claimable(account) == amount, account
    assert p.gym.functions.carry().call() == predicted.carry_out
    assert p.gym.functions.unallocated().call() == 0

    slashed_miner = predicted.miner_slashes[3]
    staked_b, unbonding_b = miner_stakes[miner_b]
    assert slashed_miner == (staked_b + unbonding_b) * params.miner_slash_bps // 10_000
    assert (p.stake_of(miner_b), p.unbonding_of(miner_b)[0]) == (
        staked_b - staked_b * params.miner_slash_bps // 10_000,
        unbonding_b - unbonding_b * params.miner_slash_bps // 10_000,
    )
    slashed_lazy = predicted.validator_slashes[val_lazy]
    assert p.stake_of(val_lazy) == stakes[val_lazy] - slashed_lazy
    assert p.stake_of(val_a) == stakes[val_a]

    for account, amount in predicted.credits.items():
        before = p.balance(account)
        assert p.as_account(account).claim() == amount
        assert p.balance(account) == before + amount
        assert p.gym.functions.claimedBy(account).call() == amount

    assert p.balance(p.gym.address) == predicted.carry_out
    staking_balance = p.balance(p.staking.address)
    assert staking_balance == (
        sum(stakes.values()) + 2 * params.miner_stake + 40 * WAD - slashed_lazy - slashed_miner
    )
    assert staking_balance == (
        p.staking.functions.totalStaked().call() + p.staking.functions.totalUnbonding().call()
    )
    assert p.balance(p.registry.address) == 2 * params.registration_bond
    # Every token is accounted for: holders + contracts == supply.
    holders = {*p.accounts[:9], p.gym.address, p.staking.address, p.registry.address}
    assert sum(p.balance(h) for h in holders) == p.token.functions.totalSupply().call()
