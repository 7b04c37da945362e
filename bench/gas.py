"""Gas per protocol call, measured from real receipts on anvil (``make gas``).

Prints ``<contract>.<function> <gas>  <scenario>`` lines, then the targets:
submitBatch <= 120k whatever the trace count (bonded miner, model freshness, seed poke);
finalize <= 80k per batch at 16 validators (amortized over a call or a chunk); reveal <=
2.5k per batch beyond a fixed base, plus a small cost per environment weight.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from web3 import Web3

from worldgym.chain.manifest import ProtocolParams
from worldgym.chain.protocol_math import (
    FRAUD,
    commitment,
    make_lane,
    pack_env_weights,
    pack_lanes,
)
from worldgym.core.amounts import WAD
from worldgym.deploy.anvil import AnvilProcess
from worldgym.deploy.devchain import DevChain, Window

PARAMS = ProtocolParams(
    epoch_length=400,
    commit_blocks=100,
    reveal_blocks=100,
    max_batches_per_miner=1024,
    max_batches_per_epoch=1024,
    min_stake=1 * WAD,
)


def cid(i: int) -> bytes:
    return bytes([1, 0x55, 0x12, 0x20]) + hashlib.sha256(str(i).encode()).digest()


def _gas(receipt: Any) -> int:
    return int(receipt["gasUsed"])


def fresh(w3: Web3, envs: int = 1) -> DevChain:
    """A new deployment on the shared anvil, with ``envs`` environments and one model."""
    chain = DevChain.deploy(w3, PARAMS)
    for e in range(envs):
        chain.register_environment_as(chain.deployer, cid(1_000 + e))
    chain.send(chain.deployer, chain.models, "registerModel", cid(1), 0, b"", b"\0" * 32)
    return chain


def _lanes(rng: random.Random, batches: int, fraud: bool) -> list[int]:
    """Random lanes (the worst case for the median's sort), or all FRAUD."""
    return [
        make_lane(FRAUD if fraud else rng.randrange(0, 10_001), rng.randrange(0, 128))
        for _ in range(batches)
    ]


def scenario_epoch(
    w3: Web3,
    batches: int,
    validators: int,
    chunk: int | None,
    *,
    envs: int = 1,
    listed: int | None = None,
    fraud: bool = False,
) -> tuple[int, int]:
    """Submit, commit, reveal and finalize one epoch; return (max reveal gas, finalize gas).

    Batches are spread over ``envs`` environments; each validator weighs ``listed`` of
    them (default: all); ``fraud`` makes every validator flag every batch (each consensus
    FRAUD slashes its miner).
    """
    chain = fresh(w3, envs)
    vals = chain.accounts[2 : 2 + validators]
    miners = chain.accounts[2 + validators : 2 + validators + 4]
    for v in vals:
        chain.stake_as(v, 10 * WAD)
    for m in miners:
        chain.bond_miner_as(m)
    # Submit from the start of a fresh epoch: its seed must be fixed within 256 blocks.
    epoch = chain.current_epoch() + 1
    chain.mine_to(chain.window_opens(epoch, Window.SUBMIT))
    for i in range(batches):
        miner = miners[i % len(miners)]
        chain.send(miner, chain.gym, "submitBatch", 1 + i % envs, 1, cid(100 + i), 64, 1)
    rng = random.Random(batches * 100 + validators)
    lanes = {v: pack_lanes(_lanes(rng, batches, fraud)) for v in vals}
    shown = range(1, 1 + min(envs if listed is None else listed, 60))
    weights = {v: pack_env_weights({e: rng.randrange(0, 10_001) for e in shown}) for v in vals}
    salts = {v: os.urandom(32) for v in vals}
    chain.mine_to(chain.window_opens(epoch, Window.COMMIT))
    for v in vals:
        digest = commitment(epoch, v, lanes[v], weights[v], salts[v])
        chain.send(v, chain.gym, "commit", epoch, digest)
    chain.mine_to(chain.window_opens(epoch, Window.REVEAL))
    reveal_gas = [
        _gas(chain.send(v, chain.gym, "reveal", epoch, lanes[v], weights[v], salts[v]))
        for v in vals
    ]
    chain.mine_to(chain.window_opens(epoch, Window.FINALIZE))
    _, total = chain.finalize_all(epoch, chunk or batches * 2 + 1 + validators)
    return max(reveal_gas), total


def main() -> None:
    lines: list[str] = []

    def report(call: str, gas: int, scenario: str) -> None:
        line = f"{call:<34} {gas:>10,}  {scenario}"
        lines.append(line)
        print(line, flush=True)

    with AnvilProcess(accounts=24) as node:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
        chain = DevChain.deploy(w3, PARAMS)
        gym = chain.gym
        chain.send(chain.deployer, chain.token, "approve", chain.registry.address, 2**255)
        receipt = chain.send(chain.deployer, chain.registry, "registerEnvironment", cid(0))
        report("EnvironmentRegistry.registerEnvironment", _gas(receipt), "bond pulled")
        receipt = chain.send(
            chain.deployer, chain.models, "registerModel", cid(1), 0, b"", b"\0" * 32
        )
        report("ModelRegistry.registerModel", _gas(receipt), "base model")
        report("Staking.stake", _gas(chain.stake_as(chain.accounts[5], 10 * WAD)), "first stake")
        report(
            "Staking.stake", _gas(chain.stake_as(chain.accounts[5], 10 * WAD)), "adding to a stake"
        )
        miner, other = chain.accounts[1], chain.accounts[2]
        for m in (miner, other):
            chain.bond_miner_as(m)
        first = _gas(chain.send(miner, gym, "submitBatch", 1, 1, cid(10), 1, 1))
        report(
            "WorldGym.submitBatch",
            first,
            "worst case: first batch of the epoch (pokes the seed) by a new bonded miner",
        )
        for traces in (1, 64, 4096):
            gas = _gas(chain.send(other, gym, "submitBatch", 1, 1, cid(20 + traces), traces, 1))
            who = "a new miner's first batch" if traces == 1 else "the same miner again"
            report("WorldGym.submitBatch", gas, f"{who}, {traces} traces")
        gas = _gas(chain.send(miner, gym, "submitBatch", 1, 1, cid(30), 4096, 1))
        report("WorldGym.submitBatch", gas, "miner's second batch, 4096 traces")

        reveals: dict[int, int] = {}
        for batches in (1, 16, 64, 256):
            reveal_gas, _ = scenario_epoch(w3, batches, 1, None)
            reveals[batches] = reveal_gas
            report("WorldGym.reveal", reveal_gas, f"{batches} batches, 1 environment weight")
        slope = (reveals[256] - reveals[16]) / 240
        report("WorldGym.reveal", round(slope), "per batch beyond the base (256 vs 16 batches)")
        with_envs, _ = scenario_epoch(w3, 16, 1, None, envs=60)
        per_env = (with_envs - reveals[16]) / 59
        report("WorldGym.reveal", with_envs, "16 batches, 60 environment weights (the cap)")
        report("WorldGym.reveal", round(per_env), "per environment weight beyond the first")

        per_batch_16 = 0.0
        for validators in (1, 4, 16):
            for chunk in (None, 33):
                _, total = scenario_epoch(w3, 64, validators, chunk)
                per_batch = total / 64
                how = "one call" if chunk is None else f"chunks of {chunk} steps"
                report(
                    "WorldGym.finalize",
                    round(per_batch),
                    f"per batch, 64 batches, {validators} validators, {how}",
                )
                per_batch_16 = max(per_batch_16, per_batch if validators == 16 else 0)
        _, total = scenario_epoch(w3, 64, 16, None, envs=8)
        report(
            "WorldGym.finalize",
            round(total / 64),
            "per batch, 64 batches in 8 environments, 16 validators weighing 8, one call",
        )
        per_batch_16 = max(per_batch_16, total / 64)
        _, total = scenario_epoch(w3, 64, 16, None, fraud=True)
        report(
            "WorldGym.finalize",
            round(total / 64),
            "per batch, 64 batches all FRAUD (each slashes its miner), 16 validators, one call",
        )
        per_batch_16 = max(per_batch_16, total / 64)
        # The adversarial extreme: every batch in its own environment, validators weighing 60
        # each; the cost is per environment met (its weight's median), not per batch.
        _, total = scenario_epoch(w3, 64, 16, None, envs=64)
        spread = total / 64
        report(
            "WorldGym.finalize",
            round(spread),
            "per batch, 64 batches in 64 environments, 16 validators weighing 60, one call",
        )

        chain = fresh(w3)
        validator, miner = chain.accounts[3], chain.accounts[1]
        chain.stake_as(validator, 10 * WAD)
        chain.bond_miner_as(miner)
        epoch = chain.gym.functions.currentEpoch().call()
        chain.send(miner, chain.gym, "submitBatch", 1, 1, cid(7), 8, 1)
        chain.mine_to(chain.window_opens(epoch, Window.COMMIT))
        salt, packed = os.urandom(32), pack_lanes([make_lane(9000, 3)])
        weights = pack_env_weights({1: 10_000})
        receipt = chain.send(
            validator,
            chain.gym,
            "commit",
            epoch,
            commitment(epoch, validator, packed, weights, salt),
        )
        report("WorldGym.commit", _gas(receipt), "first commitment (pokes the next epoch's seed)")
        chain.mine_to(chain.window_opens(epoch, Window.REVEAL))
        chain.send(validator, chain.gym, "reveal", epoch, packed, weights, salt)
        chain.mine_to(chain.window_opens(epoch, Window.FINALIZE))
        chain.finalize_all(epoch, 100)
        report("WorldGym.claim", _gas(chain.send(miner, chain.gym, "claim")), "miner")

    print()
    sb = max(
        int(line.split()[1].replace(",", ""))
        for line in lines
        if line.startswith("WorldGym.submitBatch")
    )
    print(f"targets: submitBatch max {sb:,} <= 120,000: {'ok' if sb <= 120_000 else 'MISSED'}")
    print(
        f"         finalize per batch @16 validators, up to 8 environments {per_batch_16:,.0f} "
        f"<= 80,000: {'ok' if per_batch_16 <= 80_000 else 'MISSED'} (every batch in its own "
        f"environment: {spread:,.0f}, bounded by MAX_ENV_WEIGHTS)"
    )
    print(
        f"         reveal per batch {slope:,.0f} <= 2,500: {'ok' if slope <= 2_500 else 'MISSED'}"
        f" (+ {per_env:,.0f} per environment weight)"
    )


if __name__ == "__main__":
    main()
