"""A small devnet history played on the real contracts, with what the ledger must hold.

Two epochs: three validators stake (one commits and never reveals in epoch 0 and
is slashed), two environment owners register (one publishes a second version),
the refinery role registers a base model and a child, two miners submit four
batches, both epochs are committed, revealed and finalized in chunks, a
validator starts unbonding, and three accounts claim. The expected credits come
from ``client.protocol_math`` (tested against the contracts on its own), batch
by batch, in the order the contract credits them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from eth_utils import keccak
from typer.testing import CliRunner, Result

from client.cli import app
from client.protocol_math import (
    SCORE_SCALE,
    ValidatorReveal,
    commitment,
    pack_scores,
    predict_epoch,
)
from deploy.devchain import WAD, DevChain, Window, raw_cid
from ledger.indexer import Indexer
from ledger.schema import open_engine
from ledger.store import LedgerStore

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
    consensus: dict[int, list[int]]
    rewards: list[Reward]
    scores: dict[int, dict[str, list[int] | None]]
    stakes: dict[int, dict[str, int]]
    slashed: dict[str, int]
    claimed: dict[str, int]
    carry: int
    settlements: dict[int, tuple[int, int, int, int, int]] = field(default_factory=dict)

    def credited(self, account: str) -> int:
        """Total credited to ``account``."""
        return sum(r.amount for r in self.rewards if r.account == account)


def _expected_rewards(
    epoch: int,
    batches: list[tuple[str, str, int, int, int]],  # miner, owner, env, traces, index
    reveals: list[ValidatorReveal],
    outcome_consensus: list[int],
    pots: tuple[int, int, int],
) -> list[Reward]:
    miner_pot, validator_pot, env_pot = pots
    weights = [c * n for c, (_, _, _, n, _) in zip(outcome_consensus, batches, strict=True)]
    total = sum(weights)
    out: list[Reward] = []
    for w, (miner, owner, env, _, index) in zip(weights, batches, strict=True):
        if w and total:
            out.append(Reward(epoch, miner, 0, index, miner_pot * w // total))
            out.append(Reward(epoch, owner, 2, env, env_pot * w // total))
    revealed = [v for v in reveals if v.scores is not None]
    agreement = {
        v.address: sum(
            n * (SCORE_SCALE - abs(s - c))
            for s, c, (_, _, _, n, _) in zip(
                v.scores or [], outcome_consensus, batches, strict=True
            )
        )
        for v in revealed
    }
    vw = sum(v.stake * agreement[v.address] for v in revealed)
    for v in reveals:
        if v.scores is not None and vw:
            amount = validator_pot * v.stake * agreement[v.address] // vw
            if amount:
                out.append(Reward(epoch, v.address, 1, 0, amount))
    return [r for r in out if r.amount]


def play_history(chain: DevChain) -> History:
    """Play the two epochs on ``chain``; return what happened and what must be credited."""
    p = chain
    deployer, owner1, owner2, miner_a, miner_b, val_a, val_b, val_lazy = p.accounts[:8]
    params = p.deployment.params
    stake0 = {val_a: 3_000 * WAD, val_b: 1_000 * WAD, val_lazy: 1_500 * WAD}
    for v, amount in stake0.items():
        p.stake_as(v, amount)
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

    scores0: dict[str, list[int] | None] = {
        val_a: [10_000, 5_000, 0],
        val_b: [8_000, 5_000, 10_000],
        val_lazy: [1, 2, 3],
    }
    salts = {v: keccak(v.encode()) for v in stake0}
    p.mine_to(p.window_opens(e0, Window.COMMIT))
    for v, s in scores0.items():
        p.send(v, p.gym, "commit", e0, commitment(e0, v, pack_scores(s or []), salts[v]))
    # epoch e1 runs its submit window now
    p.send(miner_b, p.gym, "submitBatch", env2, 1, raw_cid(b"b1-0"), 8, 2)
    batches.append((e1, 0, miner_b, env2, 1, 0, 8, 2))
    p.mine_to(p.window_opens(e0, Window.REVEAL))
    for v in (val_a, val_b):
        p.send(v, p.gym, "reveal", e0, pack_scores(scores0[v] or []), salts[v])
    p.mine_to(p.window_opens(e0, Window.FINALIZE))
    p.finalize_all(e0, chunk=2)
    slash0 = stake0[val_lazy] * params.slash_bps // 10_000
    p.send(val_b, p.staking, "requestUnbond", 200 * WAD)

    stake1 = {val_a: stake0[val_a], val_lazy: stake0[val_lazy] - slash0}
    scores1: dict[str, list[int] | None] = {val_a: [7_000], val_lazy: [9_000]}
    p.mine_to(p.window_opens(e1, Window.COMMIT))
    for v, s in scores1.items():
        p.send(v, p.gym, "commit", e1, commitment(e1, v, pack_scores(s or []), salts[v]))
    p.mine_to(p.window_opens(e1, Window.REVEAL))
    for v, s in scores1.items():
        p.send(v, p.gym, "reveal", e1, pack_scores(s or []), salts[v])
    p.mine_to(p.window_opens(e1, Window.FINALIZE))
    p.finalize_all(e1, chunk=3)

    emission = params.initial_epoch_emission
    rewards: list[Reward] = []
    consensus: dict[int, list[int]] = {}
    settlements: dict[int, tuple[int, int, int, int, int]] = {}
    carry = 0
    history_scores = {e0: scores0, e1: scores1}
    for epoch, stakes, slashed in ((e0, stake0, slash0), (e1, stake1, 0)):
        mine = [b for b in batches if b[0] == epoch]
        reveals = [
            ValidatorReveal(
                v,
                stakes[v],
                history_scores[epoch][v] if not (epoch == e0 and v == val_lazy) else None,
            )
            for v in history_scores[epoch]
        ]
        out = predict_epoch(
            batches=[(b[2], owners[b[3]], b[6]) for b in mine],
            validators=reveals,
            emission=emission,
            miner_bps=params.miner_bps,
            validator_bps=params.validator_bps,
            environment_bps=params.environment_bps,
            carry_in=carry,
            slashed=slashed,
        )
        consensus[epoch] = out.consensus
        settlements[epoch] = (
            out.minted,
            carry,
            out.miner_pot,
            out.validator_pot,
            out.environment_pot,
        )
        rewards += _expected_rewards(
            epoch,
            [(b[2], owners[b[3]], b[3], b[6], b[1]) for b in mine],
            reveals,
            out.consensus,
            (out.miner_pot, out.validator_pot, out.environment_pot),
        )
        carry = out.carry_out

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
        rewards=rewards,
        scores=history_scores,
        stakes={e0: stake0, e1: stake1},
        slashed={val_lazy: slash0},
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
