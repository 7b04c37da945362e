"""``worldgym ledger check``: prove the ledger equal to the contracts, to the wei.

Two layers, both exact:

1. **The ledger agrees with itself**: every aggregate row equals the sum of the
   event rows behind it (recomputed from scratch with the same delta function
   the indexer uses), so a corrupted event *or* aggregate row is caught.
2. **The ledger agrees with the chain** at the block it has indexed (views
   called at that block): for every account that was ever credited, claimed or
   staked, credited - claimed equals ``claimable``, claimed equals ``claimedBy``;
   the sum of claimables equals ``totalClaimable``; each validator's replayed
   stake and unbonding equal ``stakeOf`` / ``unbondingOf``; the replayed carry
   equals ``carry`` (settlements, validator and miner slashes, finalizations);
   the batch count of every epoch, the environment and model counts; and for the
   latest finalized epochs, every batch's consensus lane (``consensusOf``), every
   environment's weight and batch weight (``environmentWeightOf``), the pots and
   environment-weight total (``settlement``) and every validator's credit
   (``commitmentRecord``). Miners' stakes are replayed like validators' (the
   ``Slashed`` events carry the fraction taken), so a miner slash is checked to the
   wei on both sides.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select
from web3 import Web3
from web3.exceptions import Web3Exception

from worldgym.chain.contracts import Protocol
from worldgym.chain.errors import ChainError
from worldgym.chain.manifest import Deployment
from worldgym.ledger.common import checksum
from worldgym.ledger.errors import LedgerQueryError
from worldgym.ledger.rows import AGGREGATE_VALUES, Deltas, aggregate_deltas
from worldgym.ledger.schema import t
from worldgym.ledger.standings import replay_stake
from worldgym.ledger.store import LedgerStore
from worldgym.ledger.wei import join_wei

__all__ = ["CheckReport", "Mismatch", "check_ledger"]

_LIMBS = ("amount", "royalty")


@dataclass(frozen=True)
class Mismatch:
    """One value on which the ledger and its source disagree."""

    what: str
    subject: str
    ledger: int
    source: int  # the chain's value, or the event rows' for an aggregate


@dataclass
class CheckReport:
    """What ``check`` compared, at which block, and what disagreed."""

    block: int
    accounts: int = 0
    comparisons: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No disagreement."""
        return not self.mismatches

    def compare(self, what: str, subject: object, ledger: int, source: int) -> None:
        """Record one comparison (and a mismatch if the values differ)."""
        self.comparisons += 1
        if int(ledger) != int(source):
            self.mismatches.append(Mismatch(what, str(subject), int(ledger), int(source)))


def check_ledger(
    store: LedgerStore, w3: Web3, deployment: Deployment, *, recent_epochs: int = 16
) -> CheckReport:
    """Compare the ledger with itself and with the contracts at its indexed block."""
    cursor = store.cursor()
    ident = store.identity()
    if cursor is None or ident is None or cursor.block < ident.deploy_block:
        raise LedgerQueryError("the ledger is empty: run `worldgym ledger sync` first")
    report = CheckReport(block=cursor.block)
    with store.engine.connect() as conn:
        _check_aggregates(conn, report)
        ledger = _LedgerTotals.read(conn)
        scored = _recent_scores(conn, recent_epochs)
    at = _Chain(Protocol(w3, deployment), cursor.block)
    report.accounts = len(ledger.accounts)
    total = 0
    for account in sorted(ledger.accounts):
        credited, claimed = ledger.credited.get(account, 0), ledger.claimed.get(account, 0)
        total += credited - claimed
        who = checksum(account)
        report.compare("claimable", who, credited - claimed, at.gym("claimable", account))
        report.compare("claimed", who, claimed, at.gym("claimedBy", account))
    report.compare("total claimable", "all accounts", total, at.gym("totalClaimable"))
    for validator, (staked, unbonding, _) in sorted(ledger.stakes.items()):
        who = checksum(validator)
        report.compare("stake", who, staked, at.staking("stakeOf", validator))
        report.compare("unbonding", who, unbonding, at.staking("unbondingOf", validator)[0])
    report.compare("carry", "protocol", ledger.carry, at.gym("carry"))
    for epoch in range(ident.epoch_at(cursor.block) + 1):
        report.compare(
            "batch count",
            f"epoch {epoch}",
            ledger.batches.get(epoch, 0),
            at.gym("batchCount", epoch),
        )
    report.compare(
        "environments",
        "registry",
        ledger.environments,
        at.call(at.protocol.registry, "environmentCount"),
    )
    report.compare("models", "registry", ledger.models, at.call(at.protocol.models, "modelCount"))
    for (epoch, index), lane in sorted(scored.consensus.items()):
        report.compare(
            "consensus lane",
            f"epoch {epoch} batch {index}",
            lane,
            at.gym("consensusOf", epoch, index),
        )
    for (epoch, env), (weight, batch_weight) in sorted(scored.environments.items()):
        weight_on_chain, batch_weight_on_chain, _ = at.gym("environmentWeightOf", epoch, env)
        report.compare("environment weight", f"epoch {epoch} env {env}", weight, weight_on_chain)
        report.compare(
            "environment batch weight", f"epoch {epoch} env {env}", batch_weight,
            batch_weight_on_chain,
        )  # fmt: skip
    for epoch, values in sorted(scored.settlements.items()):
        for name, value, on_chain in zip(
            ("environment weight total", "miner pot", "validator pot", "environment pot"),
            values,
            (v for i, v in enumerate(at.gym("settlement", epoch)) if i != 1),
            strict=True,
        ):
            report.compare(name, f"epoch {epoch}", value, on_chain)
    for (epoch, validator), agreement in sorted(scored.agreement.items()):
        record = at.gym("commitmentRecord", epoch, validator)
        report.compare("agreement", f"epoch {epoch} {checksum(validator)}", agreement, record[3])
    return report


class _Chain:
    """Views of the protocol at one block; a node without that state is one clear error."""

    def __init__(self, protocol: Protocol, block: int) -> None:
        self.protocol = protocol
        self.block = block

    def call(self, contract: Any, fn: str, *args: Any) -> Any:
        args = tuple(Web3.to_checksum_address(a) if isinstance(a, str) else a for a in args)
        try:
            return getattr(contract.functions, fn)(*args).call(block_identifier=self.block)
        except (Web3Exception, ValueError) as exc:
            raise ChainError(
                f"cannot read {fn} at block {self.block} ({exc}); the node may keep recent "
                "states only: `worldgym ledger sync` first (check then runs at the new head), "
                "or use an archive node"
            ) from None

    def gym(self, fn: str, *args: Any) -> Any:
        return self.call(self.protocol.gym, fn, *args)

    def staking(self, fn: str, *args: Any) -> Any:
        return self.call(self.protocol.staking, fn, *args)


@dataclass
class _LedgerTotals:
    accounts: set[str]
    credited: dict[str, int]
    claimed: dict[str, int]
    stakes: dict[str, tuple[int, int, int | None]]
    carry: int
    batches: dict[int, int]
    environments: int
    models: int

    @classmethod
    def read(cls, conn: Connection) -> _LedgerTotals:
        rw, cl, se = t.rewards.c, t.claims.c, t.stake_events.c
        credited = _sums(conn, rw.account, t.rewards)
        claimed = _sums(conn, cl.account, t.claims)
        events: dict[str, list[Any]] = {}
        for ev in conn.execute(select(t.stake_events).order_by(se.block, se.log_index)):
            events.setdefault(ev.validator, []).append(ev)
        stakes = {v: replay_stake(evs) for v, evs in events.items()}
        return cls(
            accounts=set(credited) | set(claimed) | set(stakes),
            credited=credited,
            claimed=claimed,
            stakes=stakes,
            carry=_carry(conn),
            batches={
                int(e): int(n)
                for e, n in conn.execute(
                    select(t.batches.c.epoch, func.count()).group_by(t.batches.c.epoch)
                )
            },
            environments=_count(conn, t.env_registered),
            models=_count(conn, t.models),
        )


@dataclass
class _Scores:
    consensus: dict[tuple[int, int], int]  # lanes
    agreement: dict[tuple[int, str], int]
    environments: dict[tuple[int, int], tuple[int, int]]  # (W, B)
    settlements: dict[int, tuple[int, int, int, int]]  # (sumW, miner, validator, env pots)


def _recent_scores(conn: Connection, recent: int) -> _Scores:
    fi, bs, ve = t.finalizations.c, t.batch_scores.c, t.validator_epochs.c
    ew, es = t.env_weights.c, t.env_sums.c
    epochs = [
        int(e)
        for (e,) in conn.execute(select(fi.epoch).order_by(fi.epoch.desc()).limit(max(recent, 0)))
    ]
    consensus = {
        (int(e), int(i)): int(c) << 7 | int(d)
        for e, i, c, d in conn.execute(
            select(bs.epoch, bs.idx, bs.consensus, bs.digest).where(bs.epoch.in_(epochs))
        )
    }
    batch_weights = {
        (int(e), int(env)): int(w)
        for e, env, w in conn.execute(
            select(es.epoch, es.env_id, es.weight).where(es.epoch.in_(epochs))
        )
    }
    environments = {
        (int(e), int(env)): (int(w), batch_weights.get((int(e), int(env)), 0))
        for e, env, w in conn.execute(
            select(ew.epoch, ew.env_id, ew.weight).where(ew.epoch.in_(epochs))
        )
    }
    totals: dict[int, int] = dict.fromkeys(epochs, 0)
    for (e, _), (w, b) in environments.items():
        totals[e] += w if b else 0
    settlements = {
        int(r.epoch): (
            totals.get(int(r.epoch), 0),
            int(join_wei(r.miner_pot_hi, r.miner_pot_lo)),
            int(join_wei(r.validator_pot_hi, r.validator_pot_lo)),
            int(join_wei(r.environment_pot_hi, r.environment_pot_lo)),
        )
        for r in conn.execute(select(t.settlements).where(t.settlements.c.epoch.in_(epochs)))
    }
    agreement = {
        (int(e), str(v)): int(a)
        for e, v, a in conn.execute(
            select(ve.epoch, ve.validator, ve.agreement).where(ve.epoch.in_(epochs))
        )
    }
    return _Scores(consensus, agreement, environments, settlements)


def _sums(conn: Connection, key: Any, table: Any) -> dict[str, int]:
    q = select(key, func.sum(table.c.amount_hi), func.sum(table.c.amount_lo)).group_by(key)
    return {str(k): int(join_wei(hi, lo)) for k, hi, lo in conn.execute(q)}


def _count(conn: Connection, table: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def _carry(conn: Connection) -> int:
    """Replay the carry: a settlement takes it in, a slash adds, a finalization states it."""
    moves: list[tuple[int, int, str, int]] = []  # (block, log index, how, amount)
    for r in conn.execute(select(t.settlements)):
        moves.append((r.block, r.log_index, "take", join_wei(r.carried_in_hi, r.carried_in_lo)))
    for table in (t.slashes, t.miner_slashes):
        for r in conn.execute(select(table)):
            moves.append((r.block, r.log_index, "add", join_wei(r.amount_hi, r.amount_lo)))
    for r in conn.execute(select(t.finalizations)):
        moves.append((r.block, r.log_index, "set", join_wei(r.carry_out_hi, r.carry_out_lo)))
    carry = 0
    for _, _, how, amount in sorted(moves):
        carry = {"take": carry - amount, "add": carry + amount, "set": amount}[how]
    return carry


def _check_aggregates(conn: Connection, report: CheckReport) -> None:
    """Every aggregate row equals what the event rows behind it add up to."""
    expected: Deltas = {}
    rows = {
        table: _stream(conn, table)
        for table in (t.batches, t.batch_scores, t.rewards, t.claims, t.slashes, t.miner_slashes)
    }
    aggregate_deltas(rows, +1, expected)
    for table, values in AGGREGATE_VALUES.items():
        keys = [c.name for c in table.primary_key.columns]
        stored = {
            tuple(r._asdict()[k] for k in keys): r._asdict() for r in conn.execute(select(table))
        }
        wanted = expected.get(table, {})
        for key in sorted(set(stored) | set(wanted), key=str):
            have, want = stored.get(key, {}), wanted.get(key, {})
            for name in _value_names(values):
                report.compare(
                    f"{table.name}.{name}",
                    "/".join(map(str, key)),
                    _value(have, name),
                    _value(want, name),
                )


def _stream(conn: Connection, table: Any) -> Iterator[dict[str, Any]]:
    """The rows of ``table`` as dicts, read when first iterated (not all held at once)."""
    for row in conn.execute(select(table)):
        yield row._asdict()


def _value_names(values: tuple[str, ...]) -> list[str]:
    names = [v for v in values if not v.endswith(("_hi", "_lo"))]
    return names + sorted({v[:-3] for v in values if v.endswith(("_hi", "_lo"))})


def _value(row: dict[str, Any], name: str) -> int:
    if f"{name}_hi" in row or name in _LIMBS:
        return int(join_wei(row.get(f"{name}_hi"), row.get(f"{name}_lo")))
    return int(row.get(name) or 0)
