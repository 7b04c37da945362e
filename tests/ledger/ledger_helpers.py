"""A small devnet history played on the real contracts, with what the ledger must hold.

Two epochs: three validators stake (one commits and never reveals in epoch 0 and
is slashed), two bonded miners, two environment owners register (one publishes
a second version), the refinery role registers a base model and a child, the
miners submit four batches (the stake majority flags one FRAUD, which slashes its
miner), validators reveal lanes with digests and per-environment weights, both
epochs are finalized in chunks, a validator starts unbonding, and three accounts
claim. The expected rows come from ``worldgym.chain.protocol_math`` (tested against the
contracts on its own), credit by credit, in the order the contract credits them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from eth_utils import keccak
from typer.testing import CliRunner, Result

from worldgym.chain.protocol_math import (
    FRAUD,
    BatchInput,
    ValidatorReveal,
    commitment,
    lane_score,
    make_lane,
    pack_env_weights,
    pack_lanes,
    predict_epoch,
)
from worldgym.cli.app import app
from worldgym.core.amounts import WAD
from worldgym.deploy.devchain import DevChain, Window, raw_cid
from worldgym.ledger.indexer import Indexer
from worldgym.ledger.schema import open_engine
from worldgym.ledger.store import LedgerStore

__all__ = ["METRICS", "History", "Reward", "invoke", "open_indexer", "play_history", "run"]

METRICS = {"mean_score": 0.61, "round": 1}


@dataclass(frozen=True)
class Reward:
    """One expected RewardCredited row."""

    epoch: int
    account: str
    role: int  # 0 miner, 1 validator, 2 environment
    subject: int
    amount: int


@dataclass
class History:
    """Who did what, and what the ledger must say about it."""

    chain: DevChain
    owner1: str
    owner2: str
    miner_a: str
    miner_b: str
    val_a: str
    val_b: str
    val_lazy: str
    epochs: tuple[int, int]
    # (epoch, idx, miner, env, version, sequence, traces, model)
    batches: list[tuple[int, int, str, int, int, int, int, int]]
    consensus: dict[int, list[int]]  # scores (FRAUD for a flagged batch)
    digests: dict[int, list[int]]
    rewards: list[Reward]
    lanes: dict[int, dict[str, list[int]]]  # what each validator committed to
    env_weights: dict[int, dict[int, int]]  # the stake-weighted medians
    stakes: dict[int, dict[str, int]]
    slashed: dict[str, int]  # validators that did not reveal
    miner_slashes: dict[tuple[int, int], tuple[str, int]]  # (epoch, batch) -> (miner, amount)
    claimed: dict[str, int]
    carry: int
    settlements: dict[int, tuple[int, int, int, int, int]] = field(default_factory=dict)

    def credited(self, account: str) -> int:
        """Total credited to ``account``."""
        return sum(r.amount for r in self.rewards if r.account == account)

    def scores(self, epoch: int) -> dict[str, list[int]]:
        """The scores each validator committed to in ``epoch`` (its lanes' top bits)."""
        return {v: [lane_score(x) for x in lanes] for v, lanes in self.lanes[epoch].items()}


def play_history(chain: DevChain) -> History:
    """Play the two epochs on ``chain``; return what happened and what must be credited."""
    p = chain
    deployer, owner1, owner2, miner_a, miner_b, val_a, val_b, val_lazy = p.accounts[:8]
    params = p.deployment.params
    stake0 = {val_a: 3_000 * WAD, val_b: 1_000 * WAD, val_lazy: 1_500 * WAD}
    for v, amount in stake0.items():
        p.stake_as(v, amount)
    for miner in (miner_a, miner_b):
        p.bond_miner_as(miner)
    env1 = p.register_environment_as(owner1, raw_cid(b"env one"))
    p.send(owner1, p.registry, "publishVersion", env1, raw_cid(b"env one v2"))
    env2 = p.register_environment_as(owner2, raw_cid(b"env two"))
    p.send(deployer, p.models, "registerModel", raw_cid(b"base"), 0, b"", b"\0" * 32)
    digest = keccak(b'{"mean_score":0.61,"round":1}')
    p.send(deployer, p.models, "registerModel", raw_cid(b"tuned"), 1, raw_cid(b"data"), digest)

    e0 = int(p.gym.functions.currentEpoch().call())
    e1 = e0 + 1
    owners = {env1: owner1, env2: owner2}
    plan0 = [(miner_a, env1, 1, 10, 1), (miner_b, env1, 2, 20, 2), (miner_a, env2, 1, 5, 2)]
    seq: dict[str, int] = {}
    batches = []
    for i, (miner, env, version, traces, model) in enumerate(plan0):
        p.send(
            miner, p.gym, "submitBatch", env, version, raw_cid(f"b0-{i}".encode()), traces, model
        )
        batches.append((e0, i, miner, env, version, seq.get(miner, 0), traces, model))
        seq[miner] = seq.get(miner, 0) + 1

    # val_a holds 3/4 of the revealed stake: its lanes are the consensus, batch 2 is FRAUD.
    lanes0 = {
        val_a: [make_lane(10_000, 3), make_lane(5_000, 4), make_lane(FRAUD, 0)],
        val_b: [make_lane(8_000, 3), make_lane(5_000, 4), make_lane(10_000, 9)],
        val_lazy: [make_lane(1, 1), make_lane(2, 2), make_lane(3, 3)],
    }
    weights0 = {
        val_a: {env1: 10_000, env2: 4_000},
        val_b: {env1: 8_000},
        val_lazy: {env1: 10_000, env2: 10_000},
    }
    salts = {v: keccak(v.encode()) for v in stake0}

    def commit(epoch: int, v: str, lanes: list[int], weights: dict[int, int]) -> None:
        words, env_words = pack_lanes(lanes), pack_env_weights(weights)
        p.send(v, p.gym, "commit", epoch, commitment(epoch, v, words, env_words, salts[v]))

    def reveal(epoch: int, v: str, lanes: list[int], weights: dict[int, int]) -> None:
        p.send(v, p.gym, "reveal", epoch, pack_lanes(lanes), pack_env_weights(weights), salts[v])

    p.mine_to(p.window_opens(e0, Window.COMMIT))
    for v, lanes in lanes0.items():
        commit(e0, v, lanes, weights0[v])
    # epoch e1 runs its submit window now
    p.send(miner_b, p.gym, "submitBatch", env2, 1, raw_cid(b"b1-0"), 8, 2)
    batches.append((e1, 0, miner_b, env2, 1, 0, 8, 2))
    p.mine_to(p.window_opens(e0, Window.REVEAL))
    for v in (val_a, val_b):
        reveal(e0, v, lanes0[v], weights0[v])
    miner_stakes0 = {m: (p.stake_of(m), p.unbonding_of(m)[0]) for m in (miner_a, miner_b)}
    p.mine_to(p.window_opens(e0, Window.FINALIZE))
    p.finalize_all(e0, chunk=2)
    p.send(val_b, p.staking, "requestUnbond", 200 * WAD)

    slash0 = stake0[val_lazy] * params.slash_bps // 10_000
    stake1 = {val_a: stake0[val_a], val_lazy: stake0[val_lazy] - slash0}
    lanes1 = {val_a: [make_lane(7_000, 1)], val_lazy: [make_lane(7_000, 1)]}
    weights1: dict[str, dict[int, int]] = {val_a: {env2: 6_000}, val_lazy: {}}
    p.mine_to(p.window_opens(e1, Window.COMMIT))
    for v, lanes in lanes1.items():
        commit(e1, v, lanes, weights1[v])
    p.mine_to(p.window_opens(e1, Window.REVEAL))
    for v, lanes in lanes1.items():
        reveal(e1, v, lanes, weights1[v])
    p.mine_to(p.window_opens(e1, Window.FINALIZE))
    p.finalize_all(e1, chunk=3)

    rewards: list[Reward] = []
    consensus: dict[int, list[int]] = {}
    digests: dict[int, list[int]] = {}
    env_weights: dict[int, dict[int, int]] = {}
    miner_slashes: dict[tuple[int, int], tuple[str, int]] = {}
    settlements: dict[int, tuple[int, int, int, int, int]] = {}
    carry = 0
    plays: tuple[
        tuple[
            int,
            dict[str, int],
            dict[str, list[int]],
            dict[str, dict[int, int]],
            dict[str, tuple[int, int]],
        ],
        ...,
    ] = (
        (e0, stake0, lanes0, weights0, {**miner_stakes0, val_lazy: (stake0[val_lazy], 0)}),
        (e1, stake1, lanes1, weights1, {}),
    )
    for epoch, stakes, lanes_of, weights, balances in plays:
        mine = [b for b in batches if b[0] == epoch]
        out = predict_epoch(
            batches=[BatchInput(b[2], b[3], owners[b[3]], b[6]) for b in mine],
            validators=[
                ValidatorReveal(
                    v, stakes[v], None if (epoch, v) == (e0, val_lazy) else lanes_of[v], weights[v]
                )
                for v in lanes_of
            ],
            emission=params.initial_epoch_emission,
            miner_bps=params.miner_bps,
            validator_bps=params.validator_bps,
            environment_bps=params.environment_bps,
            slash_bps=params.slash_bps,
            miner_slash_bps=params.miner_slash_bps,
            stakes=balances,
            carry_in=carry,
        )
        consensus[epoch] = out.scores
        digests[epoch] = [c & 0x7F for c in out.consensus]
        env_weights[epoch] = out.env_weights
        settlements[epoch] = (
            out.minted,
            out.carried_in,
            out.miner_pot,
            out.validator_pot,
            out.environment_pot,
        )
        rewards += [Reward(epoch, *credit) for credit in out.rewards]
        for index, amount in out.miner_slashes.items():
            miner_slashes[(epoch, index)] = (mine[index][2], amount)
        carry = out.carry_out
    assert consensus[e0] == [10_000, 5_000, FRAUD]
    assert env_weights[e0] == {env1: 10_000, env2: 4_000}

    claimed: dict[str, int] = {}
    for account in (miner_a, owner1, val_a):
        claimed[account] = int(p.gym.functions.claimable(account).call())
        p.send(account, p.gym, "claim")
    return History(
        chain=p,
        owner1=owner1,
        owner2=owner2,
        miner_a=miner_a,
        miner_b=miner_b,
        val_a=val_a,
        val_b=val_b,
        val_lazy=val_lazy,
        epochs=(e0, e1),
        batches=batches,
        consensus=consensus,
        digests=digests,
        rewards=rewards,
        lanes={e0: lanes0, e1: lanes1},
        env_weights=env_weights,
        stakes={e0: stake0, e1: stake1},
        slashed={val_lazy: slash0},
        miner_slashes=miner_slashes,
        claimed=claimed,
        carry=carry,
        settlements=settlements,
    )


def open_indexer(chain: DevChain, db: Path, **kw: int) -> Indexer:
    """An indexer of ``chain`` into a fresh SQLite file ``db`` (confirmations 0 by default)."""
    kw.setdefault("confirmations", 0)
    store = LedgerStore(open_engine(f"sqlite:///{db}"))
    return Indexer(chain.w3, chain.deployment, store, **kw)


def invoke(*args: str) -> Result:
    """Invoke ``worldgym ARGS`` in-process (``result.stdout`` and ``.stderr`` apart)."""
    return CliRunner().invoke(app, list(args))


def run(*args: str) -> tuple[int, str]:
    """Invoke ``worldgym ARGS`` in-process; return (exit code, stdout + stderr)."""
    result = invoke(*args)
    return result.exit_code, result.output
