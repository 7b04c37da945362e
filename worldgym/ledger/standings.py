"""Per-address reports and leaderboards: what each account contributed and earned.

Totals come from the aggregate tables (one indexed read per account); lists of
batches and epochs from the event tables through their per-account indexes.
Amounts are summed exactly (``worldgym.ledger.wei``) and ranked in Python, so a
leaderboard's order is exact to the wei.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.sql.elements import ColumnElement

from worldgym.chain.protocol_math import FRAUD
from worldgym.ledger.common import (
    checksum,
    cid_text,
    current_owners,
    normalize_address,
    wei_of,
    wei_sum,
)
from worldgym.ledger.errors import LedgerQueryError
from worldgym.ledger.reports import (
    AddressReport,
    BatchRow,
    EpochRewards,
    MinerEpoch,
    RoyaltyRow,
    TopReport,
    TopRow,
    ValidatorEpoch,
    ValidatorStanding,
)
from worldgym.ledger.schema import Kind, Role, StakeKind, t
from worldgym.ledger.store import Identity
from worldgym.ledger.wei import LIMB_BITS, Wei, join_wei

__all__ = ["ROLES", "address_report", "agreement_bps", "batch_rows", "replay_stake", "top"]

ROLES = {
    "miner": Role.MINER,
    "validator": Role.VALIDATOR,
    "env": Role.ENVIRONMENT,
    "environment": Role.ENVIRONMENT,
}


def batch_rows(
    conn: Connection,
    where: ColumnElement[bool],
    *,
    newest_first: bool = False,
    limit: int | None = None,
) -> list[BatchRow]:
    """Batches matching ``where``, with consensus, FRAUD flag, miner reward, slash and royalty."""
    b, s = t.batches.c, t.batch_scores.c
    q = (
        select(t.batches, s.consensus, s.digest, s.weight)
        .select_from(t.batches.outerjoin(t.batch_scores, and_(s.epoch == b.epoch, s.idx == b.idx)))
        .where(where)
        .order_by(*((b.epoch.desc(), b.idx.desc()) if newest_first else (b.epoch, b.idx)))
    )
    if limit is not None:
        q = q.limit(limit)
    rows = list(conn.execute(q))
    if not rows:
        return []
    epochs = sorted({int(r.epoch) for r in rows})
    indices = sorted({int(r.idx) for r in rows})
    rw, mx = t.rewards.c, t.miner_slashes.c
    paid = {
        (int(r.epoch), int(r.subject)): wei_of(r, "amount")
        for r in conn.execute(
            select(rw.epoch, rw.subject, rw.amount_hi, rw.amount_lo).where(
                rw.role == Role.MINER, rw.epoch.in_(epochs), rw.subject.in_(indices)
            )
        )
    }
    slashed = {
        (int(r.epoch), int(r.idx)): wei_of(r, "amount")
        for r in conn.execute(
            select(t.miner_slashes).where(mx.epoch.in_(epochs), mx.idx.in_(indices))
        )
    }
    royalty = _royalty_shares(conn, epochs)
    out, zero = [], Wei(0)
    for r in rows:
        e, i, weight = r.epoch, r.idx, r.weight
        reward = paid.get((e, i), zero)
        env_weight, share = royalty.get((e, r.env_id), (None, None))
        earned = zero
        if weight and share is not None:
            earned = Wei(share(weight))
        out.append(BatchRow(
            e, i, checksum(r.miner), r.env_id, r.env_version, r.sequence, r.trace_count,
            r.model_id, cid_text(r.cid) or "", r.block, "0x" + bytes(r.tx_hash).hex(),
            r.consensus, weight, reward, earned, r.digest, r.consensus == FRAUD, env_weight,
            slashed.get((e, i), zero),
        ))  # fmt: skip
    return out


def _royalty_shares(
    conn: Connection, epochs: list[int]
) -> dict[tuple[int, int], tuple[int, Callable[[int], int] | None]]:
    """Per (epoch, environment): its weight W and how much of the environment pot a batch of
    weight w earned, ``pot * W * w // (sumW * B)`` (the contract's formula: environment
    credits name the environment, not the batch). The share is None until the epoch has
    credited batches or finalized."""
    ew, es = t.env_weights.c, t.env_sums.c
    weights = {
        (int(e), int(env)): int(w)
        for e, env, w in conn.execute(
            select(ew.epoch, ew.env_id, ew.weight).where(ew.epoch.in_(epochs))
        )
    }
    batch_weight = {
        (int(e), int(env)): int(w)
        for e, env, w in conn.execute(
            select(es.epoch, es.env_id, es.weight).where(es.epoch.in_(epochs))
        )
    }
    total: dict[int, int] = {}
    for (e, env), w in weights.items():
        if batch_weight.get((e, env)):
            total[e] = total.get(e, 0) + w
    pots = {
        int(r.epoch): int(wei_of(r, "environment_pot"))
        for r in conn.execute(select(t.settlements).where(t.settlements.c.epoch.in_(epochs)))
    }
    out: dict[tuple[int, int], tuple[int, Callable[[int], int] | None]] = {}
    for (e, env), w in weights.items():
        b, sum_w, pot = batch_weight.get((e, env), 0), total.get(e, 0), pots.get(e)
        share = None
        if pot is not None and b and sum_w:
            share = _share(pot, w, sum_w * b)
        out[(e, env)] = (w, share)
    return out


def _share(pot: int, env_weight: int, denominator: int) -> Callable[[int], int]:
    return lambda weight: pot * env_weight * weight // denominator


def replay_stake(events: list[Any]) -> tuple[int, int, int | None]:
    """(active stake, unbonding, release epoch) after Staking's events of one account.

    ``Slashed`` carries the total and the fraction: like ``Staking.slash``, it took ``bps``
    of the active stake and of the unbonding stake (falling back to active first if the two
    parts do not add up to the amount, which the contract would never emit).
    """
    staked = unbonding = 0
    release: int | None = None
    for ev in events:
        amount = int(wei_of(ev, "amount"))
        if ev.kind == StakeKind.STAKED:
            staked = int(wei_of(ev, "staked"))
        elif ev.kind == StakeKind.UNBOND:
            staked, unbonding, release = staked - amount, unbonding + amount, ev.release_epoch
        elif ev.kind == StakeKind.WITHDRAWN:
            unbonding -= amount
        elif ev.kind == StakeKind.SLASHED:
            bps = int(ev.bps or 0)
            from_stake = staked * bps // 10_000
            from_unbonding = unbonding * bps // 10_000
            if from_stake + from_unbonding != amount:
                from_stake = min(staked, amount)
                from_unbonding = amount - from_stake
            staked, unbonding = staked - from_stake, unbonding - from_unbonding
    return staked, unbonding, (release if unbonding else None)


def agreement_bps(agreement: int | None, possible: int | None) -> int | None:
    """A validator's credit as a share of what it could have earned, in basis points."""
    if agreement is None or not possible:
        return None
    return int(agreement) * 10_000 // int(possible)


def address_report(
    conn: Connection, ident: Identity, address: str, *, recent: int = 10
) -> AddressReport:
    """Everything ``address`` did and earned, in every role."""
    a = normalize_address(address)
    acc, rs = t.account_sums.c, t.reward_sums.c
    totals = {
        int(r.kind): wei_of(r, "amount")
        for r in conn.execute(select(t.account_sums).where(acc.account == a))
    }
    per_epoch: dict[int, list[int]] = {}
    for e, role, hi, lo in conn.execute(  # covered by ix_reward_sums_account
        select(rs.epoch, rs.role, rs.amount_hi, rs.amount_lo).where(rs.account == a)
    ):
        per_epoch.setdefault(e, [0, 0, 0])[role] += (hi << LIMB_BITS) + lo
    rewards = [
        EpochRewards(e, Wei(m), Wei(v), Wei(n)) for e, (m, v, n) in sorted(per_epoch.items())
    ]
    credited = Wei(sum(totals.get(r, 0) for r in range(3)))
    claimed = totals.get(Kind.CLAIMED, Wei(0))
    return AddressReport(
        address=checksum(a),
        credited=credited,
        claimed=claimed,
        claimable=Wei(credited - claimed),
        slashed=totals.get(Kind.SLASHED, Wei(0)),
        miner_slashed=totals.get(Kind.MINER_SLASHED, Wei(0)),
        by_role={name: totals.get(i, Wei(0)) for i, name in enumerate(Role.NAMES)},
        rewards=rewards,
        miner=_miner_epochs(conn, a, per_epoch),
        recent_batches=batch_rows(conn, t.batches.c.miner == a, newest_first=True, limit=recent),
        validator=_validator_standing(conn, ident, a, per_epoch),
        royalties=_royalties(conn, a),
    )


def _miner_epochs(conn: Connection, a: str, per_epoch: dict[int, list[int]]) -> list[MinerEpoch]:
    ms, mx = t.miner_sums.c, t.miner_slashes.c
    rows = conn.execute(
        select(ms.epoch, ms.batches, ms.traces, ms.weight, ms.scored_traces, ms.fraud)
        .where(ms.miner == a)
        .order_by(ms.epoch)
    )
    slashed = {
        int(e): join_wei(hi, lo)
        for e, hi, lo in conn.execute(
            select(mx.epoch, *wei_sum(t.miner_slashes, "amount"))
            .where(mx.miner == a)
            .group_by(mx.epoch)
        )
    }
    none = [0, 0, 0]
    return [
        MinerEpoch(e, batches, traces, weight // scored if scored else None,
                   Wei(per_epoch.get(e, none)[Role.MINER]), fraud, slashed.get(e, Wei(0)))
        for e, batches, traces, weight, scored, fraud in rows
    ]  # fmt: skip


def _validator_standing(
    conn: Connection, ident: Identity, a: str, per_epoch: dict[int, list[int]]
) -> ValidatorStanding | None:
    se, c, ve, sl = t.stake_events.c, t.commits.c, t.validator_epochs.c, t.slashes.c
    events = list(
        conn.execute(
            select(t.stake_events).where(se.validator == a).order_by(se.block, se.log_index)
        )
    )
    commits = list(
        conn.execute(
            select(c.epoch, c.stake_hi, c.stake_lo).where(c.validator == a).order_by(c.epoch)
        )
    )
    if not events and not commits:
        return None
    staked, unbonding, release = replay_stake(events)
    derived = {
        e: (agreement, possible)
        for e, agreement, possible in conn.execute(
            select(ve.epoch, ve.agreement, ve.possible).where(ve.validator == a)
        )
    }
    slashed = {
        int(e): join_wei(hi, lo)
        for e, hi, lo in conn.execute(
            select(sl.epoch, *wei_sum(t.slashes, "amount"))
            .where(sl.validator == a)
            .group_by(sl.epoch)
        )
    }
    revealed = {
        int(e) for (e,) in conn.execute(select(t.reveals.c.epoch).where(t.reveals.c.validator == a))
    }
    who, none, zero = checksum(a), [0, 0, 0], Wei(0)
    epochs = []
    for e, stake_hi, stake_lo in commits:
        agreement, possible = derived.get(e, (None, 0))
        epochs.append(ValidatorEpoch(
            e, who, join_wei(stake_hi, stake_lo), e in revealed, agreement,
            agreement_bps(agreement, possible),
            Wei(per_epoch.get(e, none)[Role.VALIDATOR]), slashed.get(e, zero),
        ))  # fmt: skip
    return ValidatorStanding(Wei(staked), Wei(unbonding), release, epochs)


def _royalties(conn: Connection, a: str) -> list[RoyaltyRow]:
    rw = t.rewards.c
    earned = {
        int(env): (join_wei(hi, lo), int(n))
        for env, hi, lo, n in conn.execute(
            select(rw.subject, *wei_sum(t.rewards, "amount"), func.count())
            .where(rw.account == a, rw.role == Role.ENVIRONMENT)
            .group_by(rw.subject)
        )
    }
    owned = {e for e, owner in current_owners(conn).items() if owner == a}
    return [
        RoyaltyRow(
            env_id=e,
            royalty=earned.get(e, (Wei(0), 0))[0],
            payments=earned.get(e, (Wei(0), 0))[1],
            owner_now=e in owned,
        )
        for e in sorted(set(earned) | owned)
    ]


# ─── leaderboards ─────────────────────────────────────────────────────────────


def top(
    conn: Connection,
    ident: Identity,
    role: str,
    *,
    epochs: tuple[int, int] | None = None,
    limit: int = 20,
) -> TopReport:
    """The ``limit`` best-paid subjects of ``role`` over ``epochs`` (inclusive; None: all)."""
    if role not in ROLES:
        raise LedgerQueryError(f"unknown role {role!r}: use miner, validator or env")
    if epochs is not None and (epochs[0] > epochs[1] or epochs[0] < 0):
        raise LedgerQueryError(f"epoch range {epochs[0]}:{epochs[1]} is empty")
    if limit < 1:
        raise LedgerQueryError("a leaderboard needs a limit of at least 1")
    number = ROLES[role]
    if number == Role.ENVIRONMENT:
        rows = _top_envs(conn, epochs, limit)
    else:
        rows = _top_accounts(conn, ident, number, epochs, limit)
    return TopReport(role="env" if number == Role.ENVIRONMENT else role, epochs=epochs, rows=rows)


def _ranked(entries: list[tuple[str, Wei]], limit: int) -> list[tuple[int, str, Wei]]:
    """``(rank, subject, amount)`` of the ``limit`` largest amounts (ties: by subject)."""
    entries.sort(key=lambda e: (-e[1], e[0]))
    return [(i + 1, s, amount) for i, (s, amount) in enumerate(entries[:limit])]


def _in_range(query: Any, column: Any, epochs: tuple[int, int] | None) -> Any:
    return query if epochs is None else query.where(column.between(*epochs))


def _top_accounts(
    conn: Connection, ident: Identity, role: int, epochs: tuple[int, int] | None, limit: int
) -> list[TopRow]:
    """Accounts ranked by credits in ``role``; ``epochs`` counts the epochs they were active in
    the role (batches submitted; commitments settled)."""
    if epochs is None:  # all time: one row per account
        acc = t.account_sums.c
        found = conn.execute(
            select(acc.account, acc.amount_hi, acc.amount_lo).where(acc.kind == role)
        )
    else:
        rs = t.reward_sums.c
        found = conn.execute(
            select(rs.account, *wei_sum(t.reward_sums, "amount"))
            .where(rs.role == role, rs.epoch.between(*epochs))
            .group_by(rs.account)
        )
    ranked = _ranked([(a, join_wei(hi, lo)) for a, hi, lo in found], limit)
    accounts = [acct for _, acct, _ in ranked]
    if not accounts:
        return []
    if role == Role.MINER:
        ms = t.miner_sums.c
        q = select(
            ms.miner, func.count(), func.sum(ms.batches), func.sum(ms.traces),
            func.sum(ms.weight), func.sum(ms.scored_traces),
        ).where(ms.miner.in_(accounts))  # fmt: skip
        work = {m: v for m, *v in conn.execute(_in_range(q, ms.epoch, epochs).group_by(ms.miner))}
        rows = []
        for rank, acct, amount in ranked:
            active, batches, traces, weight, scored = work.get(acct, (0, 0, 0, 0, 0))
            rows.append(TopRow(
                rank=rank, subject=checksum(acct), reward=amount, epochs=active, batches=batches,
                traces=traces, consensus_bps=weight // scored if scored else None,
            ))  # fmt: skip
        return rows
    ve, sl, se = t.validator_epochs.c, t.slashes.c, t.stake_events.c
    qa = select(ve.validator, func.count(), func.sum(ve.agreement), func.sum(ve.possible)).where(
        ve.validator.in_(accounts)
    )
    agree = {v: (n, a, tr) for v, n, a, tr in
             conn.execute(_in_range(qa, ve.epoch, epochs).group_by(ve.validator))}  # fmt: skip
    qx = select(sl.validator, *wei_sum(t.slashes, "amount")).where(sl.validator.in_(accounts))
    slashed = {v: join_wei(hi, lo) for v, hi, lo in
               conn.execute(_in_range(qx, sl.epoch, epochs).group_by(sl.validator))}  # fmt: skip
    stakes: dict[str, list[Any]] = {}
    for ev in conn.execute(
        select(t.stake_events).where(se.validator.in_(accounts)).order_by(se.block, se.log_index)
    ):
        stakes.setdefault(ev.validator, []).append(ev)
    rows = []
    for rank, acct, amount in ranked:
        active, agreement, possible = agree.get(acct, (0, 0, 0))
        rows.append(TopRow(
            rank=rank, subject=checksum(acct), reward=amount, epochs=active,
            stake=Wei(replay_stake(stakes.get(acct, []))[0]),
            agreement_bps=agreement_bps(agreement, possible),
            slashed=slashed.get(acct, Wei(0)),
        ))  # fmt: skip
    return rows


def _top_envs(conn: Connection, epochs: tuple[int, int] | None, limit: int) -> list[TopRow]:
    """Environments ranked by royalties; ``epochs`` counts the epochs with batches in them."""
    es = t.env_sums.c
    q = select(es.env_id, *wei_sum(t.env_sums, "royalty"), func.sum(es.batches),
               func.sum(es.traces), func.sum(es.weight),
               func.count().filter(es.batches > 0))  # fmt: skip
    stats = {
        str(e): (join_wei(hi, lo), int(b), int(tr), int(w), int(n))
        for e, hi, lo, b, tr, w, n in conn.execute(
            _in_range(q, es.epoch, epochs).group_by(es.env_id)
        )
    }
    ranked = _ranked([(env, s[0]) for env, s in stats.items()], limit)
    owners = current_owners(conn, [int(env) for _, env, _ in ranked])
    rows = []
    for rank, env, amount in ranked:
        _, batches, traces, weight, active = stats[env]
        owner = owners.get(int(env))
        rows.append(TopRow(
            rank=rank, subject=env, reward=amount, epochs=active, batches=batches, traces=traces,
            consensus_bps=weight // traces if traces else None,
            owner=checksum(owner) if owner else None,
        ))  # fmt: skip
    return rows
