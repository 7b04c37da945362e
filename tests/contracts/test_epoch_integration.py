"""One whole epoch on a real anvil with the real compiled contracts, checked to the wei.

Register an environment, stake two validators with different stakes (and a third
that commits but never reveals), submit three batches, commit, reveal, finalize
in chunks, claim; the Python model of the protocol (client.protocol_math)
predicts every credit independently.
"""

from __future__ import annotations

import os

from web3.logs import DISCARD

from client.protocol_math import (
    ValidatorReveal,
    commitment,
    pack_scores,
    predict_epoch,
    unpack_scores,
)
from deploy.devchain import WAD, DevChain, Window, raw_cid
from gym.derive import task_seed


def test_one_epoch_pays_everyone_to_the_wei(chain: DevChain) -> None:
    p = chain
    deployer, owner, miner_a, miner_b, val_a, val_b, val_lazy = p.accounts[:7]
    params = p.deployment.params
    genesis_supply = p.token.functions.totalSupply().call()

    stakes = {val_a: 3_000 * WAD, val_b: 1_000 * WAD, val_lazy: 1_500 * WAD}
    for validator, amount in stakes.items():
        p.stake_as(validator, amount)

    spec_cid = raw_cid(b'{"schema":"worldgym.env/1"}')
    assert p.register_environment_as(owner, spec_cid) == 1
    assert p.registry.functions.ownerOf(1).call() == owner
    assert p.registry.functions.versionCid(1, 1).call() == spec_cid
    p.send(deployer, p.models, "registerModel", raw_cid(b"base model"), 0, b"", b"\0" * 32)

    epoch = p.gym.functions.currentEpoch().call()
    traces = [(miner_a, 10), (miner_b, 20), (miner_a, 5)]
    for i, (miner, count) in enumerate(traces):
        receipt = p.send(
            miner, p.gym, "submitBatch", 1, 1, raw_cid(f"batch {i}".encode()), count, 1
        )
        (event,) = p.gym.events.BatchSubmitted().process_receipt(receipt, errors=DISCARD)
        assert (event.args.epoch, event.args.index, event.args.miner) == (epoch, i, miner)
        assert event.args.sequence == (1 if i == 2 else 0)
        assert event.args.cid == raw_cid(f"batch {i}".encode())
    assert p.gym.functions.batchCount(epoch).call() == 3

    seed = p.gym.functions.seedOf(epoch).call()
    assert seed != b"\0" * 32
    assert p.gym.functions.taskSeed(seed, 1, 1, miner_a, 7).call() == task_seed(
        seed, 1, 1, miner_a, 7
    )

    scores = {val_a: [10_000, 5_000, 0], val_b: [8_000, 5_000, 10_000], val_lazy: [1, 2, 3]}
    salts = {v: os.urandom(32) for v in scores}
    p.mine_to(p.window_opens(epoch, Window.COMMIT))
    for validator, s in scores.items():
        packed = pack_scores(s)
        digest = commitment(epoch, validator, packed, salts[validator])
        assert (
            p.gym.functions.commitmentOf(epoch, validator, packed, salts[validator]).call()
            == digest
        )
        p.send(validator, p.gym, "commit", epoch, digest)

    p.mine_to(p.window_opens(epoch, Window.REVEAL))
    for validator in (val_a, val_b):
        p.send(validator, p.gym, "reveal", epoch, pack_scores(scores[validator]), salts[validator])
        words = [p.gym.functions.revealedScore(epoch, validator, i).call() for i in range(3)]
        assert words == scores[validator] == unpack_scores(pack_scores(scores[validator]), 3)

    p.mine_to(p.window_opens(epoch, Window.FINALIZE))
    calls, _ = p.finalize_all(epoch, chunk=2)
    assert calls == 5  # 3 batches + settle + 3 batch payouts + 3 validators = 10 steps, 2 a call

    slashed = stakes[val_lazy] * params.slash_bps // 10_000
    predicted = predict_epoch(
        batches=[(m, owner, n) for m, n in traces],
        validators=[
            ValidatorReveal(val_a, stakes[val_a], scores[val_a]),
            ValidatorReveal(val_b, stakes[val_b], scores[val_b]),
            ValidatorReveal(val_lazy, stakes[val_lazy], None),
        ],
        emission=p.token.functions.emissionOf(epoch).call(),
        miner_bps=params.miner_bps,
        validator_bps=params.validator_bps,
        environment_bps=params.environment_bps,
        slashed=slashed,
    )
    assert predicted.consensus == [10_000, 5_000, 0]  # val_a holds 2/3 of the revealed stake
    assert [p.gym.functions.consensusOf(epoch, i).call() for i in range(3)] == predicted.consensus
    assert p.token.functions.totalSupply().call() == genesis_supply + predicted.minted
    assert set(predicted.credits) == {miner_a, miner_b, owner, val_a, val_b}
    for account, amount in predicted.credits.items():
        assert p.gym.functions.claimable(account).call() == amount, account
    assert p.gym.functions.carry().call() == predicted.carry_out
    assert p.gym.functions.unallocated().call() == 0
    assert p.staking.functions.stakeOf(val_lazy).call() == stakes[val_lazy] - slashed
    assert p.staking.functions.stakeOf(val_a).call() == stakes[val_a]

    for account, amount in predicted.credits.items():
        before = p.token.functions.balanceOf(account).call()
        p.send(account, p.gym, "claim")
        assert p.token.functions.balanceOf(account).call() == before + amount
        assert p.gym.functions.claimable(account).call() == 0
        assert p.gym.functions.claimedBy(account).call() == amount

    assert p.token.functions.balanceOf(p.gym.address).call() == predicted.carry_out
    staking_balance = p.token.functions.balanceOf(p.staking.address).call()
    assert staking_balance == sum(stakes.values()) - slashed
    assert staking_balance == (
        p.staking.functions.totalStaked().call() + p.staking.functions.totalUnbonding().call()
    )
    assert p.token.functions.balanceOf(p.registry.address).call() == params.registration_bond
    # Every token is accounted for: holders + contracts == supply.
    holders = {*p.accounts[:7], p.gym.address, p.staking.address, p.registry.address}
    assert sum(p.token.functions.balanceOf(h).call() for h in holders) == (
        p.token.functions.totalSupply().call()
    )
