"""Random epochs on anvil against worldgym.chain.protocol_math, to the wei.

Each seed draws environments, bonded miners, batches, validators with random stakes,
lanes from a small set (so that exact matches, ties and FRAUD majorities are common),
random environment weights, a validator that may not reveal, and a random finalize
chunk; the contracts and the Python model must agree on every lane, weight, credit,
slash and the carry.
"""

from __future__ import annotations

import os
import random

import pytest

from worldgym.chain.protocol_math import (
    FRAUD,
    BatchInput,
    ValidatorReveal,
    commitment,
    make_lane,
    pack_env_weights,
    pack_lanes,
    predict_epoch,
)
from worldgym.core.amounts import WAD
from worldgym.deploy.devchain import DevChain, Window, raw_cid

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("seed", range(4))
def test_a_random_epoch_matches_protocol_math(chain: DevChain, seed: int) -> None:
    rng = random.Random(seed)
    p, params = chain, chain.deployment.params
    owners = p.accounts[1:4]
    envs = [
        p.register_environment_as(rng.choice(owners), raw_cid(f"env {i}".encode()))
        for i in range(rng.randint(1, 3))
    ]
    owner_of = {env: p.registry.functions.ownerOf(env).call() for env in envs}
    p.send(p.deployer, p.models, "registerModel", raw_cid(b"m"), 0, b"", b"\0" * 32)
    miners = p.accounts[4:7]
    for m in miners:
        p.bond_miner_as(m)
        if rng.random() < 0.5:  # some stake more, and some of it is unbonding
            p.stake_as(m, rng.randint(1, 300) * WAD)
            p.send(m, p.staking, "requestUnbond", rng.randint(1, 50) * WAD)
    validators = p.accounts[7 : 7 + rng.randint(2, 5)]
    stakes = {v: rng.randint(1_000, 5_000) * WAD for v in validators}
    for v, amount in stakes.items():
        p.stake_as(v, amount)

    epoch = p.current_epoch() + 1  # a fresh epoch: all batches fit in its submit window
    p.mine_to(p.window_opens(epoch, Window.SUBMIT))
    batches = []
    for i in range(rng.randint(1, 14)):
        miner, env, traces = rng.choice(miners), rng.choice(envs), rng.randint(1, 64)
        p.send(miner, p.gym, "submitBatch", env, 1, raw_cid(f"b{i}".encode()), traces, 1)
        batches.append(BatchInput(miner, env, owner_of[env], traces))

    menu = [make_lane(s, d) for s in (0, 4_000, 9_000, FRAUD) for d in (1, 2)]
    truth = [rng.choice(menu) for _ in batches]
    lanes = {v: [t if rng.random() < 0.7 else rng.choice(menu) for t in truth] for v in validators}
    weights = {
        v: {e: rng.choice((0, 2_500, 10_000)) for e in envs if rng.random() < 0.8}
        for v in validators
    }
    silent = validators[-1] if rng.random() < 0.5 else None
    salts = {v: os.urandom(32) for v in validators}
    p.mine_to(p.window_opens(epoch, Window.COMMIT))
    for v in validators:
        words, env_words = pack_lanes(lanes[v]), pack_env_weights(weights[v])
        p.send(v, p.gym, "commit", epoch, commitment(epoch, v, words, env_words, salts[v]))
    p.mine_to(p.window_opens(epoch, Window.REVEAL))
    for v in validators:
        if v != silent:
            words, env_words = pack_lanes(lanes[v]), pack_env_weights(weights[v])
            p.send(v, p.gym, "reveal", epoch, words, env_words, salts[v])

    balances = {a: (p.stake_of(a), p.unbonding_of(a)[0]) for a in [*miners, *validators]}
    carry_in = p.gym.functions.carry().call()
    out = predict_epoch(
        batches=batches,
        validators=[
            ValidatorReveal(v, stakes[v], None if v == silent else lanes[v], weights[v])
            for v in validators
        ],
        emission=p.token.functions.emissionOf(epoch).call(),
        miner_bps=params.miner_bps,
        validator_bps=params.validator_bps,
        environment_bps=params.environment_bps,
        slash_bps=params.slash_bps,
        miner_slash_bps=params.miner_slash_bps,
        stakes=balances,
        carry_in=carry_in,
    )
    p.mine_to(p.window_opens(epoch, Window.FINALIZE))
    p.finalize_all(epoch, chunk=rng.randint(1, 2 * len(batches) + len(validators) + 1))

    assert [p.consensus_lane(epoch, i) for i in range(len(batches))] == out.consensus
    for env, weight in out.env_weights.items():
        assert p.env_weight(epoch, env).weight == weight
        assert p.env_weight(epoch, env).batch_weight == out.env_batch_weights[env]
    settled = p.gym.functions.settlement(epoch).call()
    assert settled[0] == out.total_env_weight
    assert settled[2:] == [out.miner_pot, out.validator_pot, out.environment_pot]
    for v in validators:
        assert p.commitment(epoch, v).agreement == out.agreement.get(v, 0)
    for account in {*miners, *validators, *owners}:
        assert p.claimable(account) == out.credits.get(account, 0), account
    for account, (staked, unbonding) in balances.items():
        predicted = (staked, unbonding)
        taken = [out.miner_slashes[i] for i, b in enumerate(batches) if i in out.miner_slashes
                 and b.miner == account]  # fmt: skip
        if taken or account in out.validator_slashes:
            assert p.stake_of(account) + p.unbonding_of(account)[0] == (
                sum(predicted) - sum(taken) - out.validator_slashes.get(account, 0)
            )
        else:
            assert (p.stake_of(account), p.unbonding_of(account)[0]) == predicted
    assert p.gym.functions.carry().call() == out.carry_out
    assert p.gym.functions.unallocated().call() == 0
