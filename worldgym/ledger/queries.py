"""Reading the ledger: status, epochs, one epoch, environments and the model lineage.

:class:`Ledger` answers from the database alone (no node needed), so the CLI
and the dashboard work offline on what was indexed. Addresses and leaderboards
are in :mod:`worldgym.ledger.standings`; :class:`Ledger` exposes them too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import SQLAlchemyError

from worldgym.chain.protocol_math import LANES_PER_WORD, lane_score, unpack_lanes
from worldgym.ledger import standings
from worldgym.ledger.common import (
    checksum,
    cid_text,
    current_owners,
    phase_of,
    wei_of,
    wei_sum,
    windows_of,
)
from worldgym.ledger.errors import LedgerDatabaseError, LedgerQueryError
from worldgym.ledger.reports import (
    AddressReport,
    BatchRow,
    EnvEpoch,
    EnvReport,
    EnvSummary,
    EpochReport,
    EpochRewards,
    EpochSummary,
    LedgerStatus,
    ModelRow,
    Settlement,
    TopReport,
    ValidatorEpoch,
)
from worldgym.ledger.rows import unpack_words
from worldgym.ledger.schema import Kind, Role, t
from worldgym.ledger.standings import agreement_bps
from worldgym.ledger.store import Cursor, Identity, LedgerStore
from worldgym.ledger.wei import Wei, join_wei

__all__ = ["Ledger", "MetricsResolver"]

# (model row) -> (metrics, verified, where they were found), or None when none are found
MetricsResolver = Callable[[ModelRow], tuple[dict[str, Any], bool, str] | None]


class Ledger:
    """Read-only queries over a ledger database."""

    def __init__(self, store: LedgerStore) -> None:
        self.store = store

    @contextmanager
    def _read(self) -> Iterator[tuple[Connection, Identity, Cursor]]:
        ident = self.store.identity()
        cursor = self.store.cursor()
        if ident is None or cursor is None:
            raise LedgerQueryError("the ledger is empty: run `worldgym ledger sync` first")
        try:
            with self.store.engine.connect() as conn:
                yield conn, ident, cursor
        except SQLAlchemyError as exc:
            raise LedgerDatabaseError(f"reading the ledger failed: {exc}") from None

    # ─── status and epochs ────────────────────────────────────────────────────

    def status(self) -> LedgerStatus:
        """Where the ledger and the chain's clock stand."""
        with self._read() as (conn, ident, cursor):
            sums = {
                kind: join_wei(hi, lo)
                for kind, hi, lo in conn.execute(
                    select(t.account_sums.c.kind, *wei_sum(t.account_sums, "amount")).group_by(
                        t.account_sums.c.kind
                    )
                )
            }
        head = max(cursor.head, cursor.block)
        epoch = ident.epoch_at(head)
        scoring = ""
        if epoch > 0:
            prev = phase_of(ident, head, epoch - 1, started=False, finalized=False)
            scoring = f"; epoch {epoch - 1}: {prev}"
        return LedgerStatus(
            chain_id=ident.chain_id,
            worldgym=checksum(ident.worldgym),
            deploy_block=ident.deploy_block,
            genesis_block=ident.genesis_block,
            epoch_length=ident.epoch_length,
            indexed_block=cursor.block,
            head_block=head,
            current_epoch=epoch,
            phase=f"epoch {epoch}: submit{scoring}",
            credited=Wei(sum(sums.get(r, 0) for r in range(3))),
            claimed=sums.get(Kind.CLAIMED, Wei(0)),
        )

    def epochs(self, limit: int = 20, last: int | None = None) -> list[EpochSummary]:
        """The ``limit`` epochs up to ``last`` (default: the current one), newest first."""
        with self._read() as (conn, ident, cursor):
            head = max(cursor.head, cursor.block)
            last = ident.epoch_at(head) if last is None else last
            first = max(last - max(limit, 1) + 1, 0)
            span = (first, last)
            es, se, fi = t.env_sums.c, t.settlements.c, t.finalizations.c
            work = {
                e: (int(b), int(n))
                for e, b, n in conn.execute(
                    select(es.epoch, func.sum(es.batches), func.sum(es.traces))
                    .where(es.epoch.between(*span))
                    .group_by(es.epoch)
                )
            }
            validators = {
                int(e): int(n)
                for e, n in conn.execute(
                    select(t.commits.c.epoch, func.count())
                    .where(t.commits.c.epoch.between(*span))
                    .group_by(t.commits.c.epoch)
                )
            }
            settled = {
                r.epoch: r
                for r in conn.execute(select(t.settlements).where(se.epoch.between(*span)))
            }
            done = {e for (e,) in conn.execute(select(fi.epoch).where(fi.epoch.between(*span)))}
            rs = t.reward_sums.c
            credited = {
                e: join_wei(hi, lo)
                for e, hi, lo in conn.execute(
                    select(rs.epoch, *wei_sum(t.reward_sums, "amount"))
                    .where(rs.epoch.between(*span))
                    .group_by(rs.epoch)
                )
            }
        out = []
        for e in range(last, first - 1, -1):
            batches, traces = work.get(e, (0, 0))
            s = settled.get(e)
            out.append(
                EpochSummary(
                    epoch=e,
                    start_block=ident.epoch_start(e),
                    batches=batches,
                    traces=traces,
                    phase=phase_of(ident, head, e, started=s is not None, finalized=e in done),
                    validators=int(validators.get(e, 0)),
                    minted=wei_of(s, "minted") if s is not None else Wei(0),
                    credited=credited.get(e, Wei(0)),
                )
            )
        return out

    def epoch(self, epoch: int) -> EpochReport:
        """One epoch: its batches and their consensus, each validator's scores, the split."""
        with self._read() as (conn, ident, cursor):
            head = max(cursor.head, cursor.block)
            if epoch < 0 or ident.epoch_start(epoch) > head:
                raise LedgerQueryError(
                    f"epoch {epoch} has not started (the current epoch is {ident.epoch_at(head)})"
                )
            batches = standings.batch_rows(conn, t.batches.c.epoch == epoch)
            settlement = conn.execute(
                select(t.settlements).where(t.settlements.c.epoch == epoch)
            ).first()
            final = conn.execute(
                select(t.finalizations).where(t.finalizations.c.epoch == epoch)
            ).first()
            seed = conn.execute(select(t.seeds.c.seed).where(t.seeds.c.epoch == epoch)).scalar()
            validators = _validators_of(conn, epoch, batches)
            ew, mx = t.env_weights.c, t.miner_slashes.c
            env_weights = {
                int(env): int(w)
                for env, w in conn.execute(
                    select(ew.env_id, ew.weight).where(ew.epoch == epoch).order_by(ew.env_id)
                )
            }
            miner_slashed = join_wei(
                *conn.execute(
                    select(*wei_sum(t.miner_slashes, "amount")).where(mx.epoch == epoch)
                ).one()
            )
            rs = t.reward_sums.c
            by_role = {
                Role.NAMES[role]: join_wei(hi, lo)
                for role, hi, lo in conn.execute(
                    select(rs.role, *wei_sum(t.reward_sums, "amount"))
                    .where(rs.epoch == epoch)
                    .group_by(rs.role)
                )
            }
        return EpochReport(
            epoch=epoch,
            phase=phase_of(
                ident,
                head,
                epoch,
                started=settlement is not None or any(b.consensus is not None for b in batches),
                finalized=final is not None,
            ),
            windows=windows_of(ident, epoch),
            seed=None if seed is None else "0x" + bytes(seed).hex(),
            batches=batches,
            validators=validators,
            settlement=None
            if settlement is None
            else Settlement(
                minted=wei_of(settlement, "minted"),
                carried_in=wei_of(settlement, "carried_in"),
                miner_pot=wei_of(settlement, "miner_pot"),
                validator_pot=wei_of(settlement, "validator_pot"),
                environment_pot=wei_of(settlement, "environment_pot"),
                carry_out=None if final is None else wei_of(final, "carry_out"),
            ),
            rewards={name: by_role.get(name, Wei(0)) for name in Role.NAMES},
            env_weights=env_weights,
            miner_slashed=miner_slashed,
        )

    def rewards_by_epoch(self, limit: int = 50) -> list[EpochRewards]:
        """Credits of every account per epoch and role, over the last ``limit`` epochs."""
        with self._read() as (conn, ident, cursor):
            last = ident.epoch_at(max(cursor.head, cursor.block))
            first = max(last - max(limit, 1) + 1, 0)
            rs = t.reward_sums.c
            per: dict[int, list[int]] = {e: [0, 0, 0] for e in range(first, last + 1)}
            for e, role, hi, lo in conn.execute(
                select(rs.epoch, rs.role, *wei_sum(t.reward_sums, "amount"))
                .where(rs.epoch.between(first, last))
                .group_by(rs.epoch, rs.role)
            ):
                per[int(e)][int(role)] += join_wei(hi, lo)
        return [EpochRewards(e, Wei(m), Wei(v), Wei(n)) for e, (m, v, n) in sorted(per.items())]

    # ─── environments ─────────────────────────────────────────────────────────

    def envs(self) -> list[EnvSummary]:
        """Every environment with its totals."""
        with self._read() as (conn, _ident, _cursor):
            es = t.env_sums.c
            totals = {
                r.env_id: r
                for r in conn.execute(
                    select(
                        es.env_id,
                        func.sum(es.batches).label("batches"),
                        func.sum(es.traces).label("traces"),
                        *(
                            c.label(f"royalty_{n}")
                            for c, n in zip(
                                wei_sum(t.env_sums, "royalty"), ("hi", "lo"), strict=True
                            )
                        ),
                    ).group_by(es.env_id)
                )
            }
            versions = dict(
                conn.execute(
                    select(t.env_versions.c.env_id, func.max(t.env_versions.c.version)).group_by(
                        t.env_versions.c.env_id
                    )
                ).all()
            )
            inactive = {e for (e,) in conn.execute(select(t.env_deactivations.c.env_id))}
            owners = current_owners(conn)
        out = []
        for env_id in sorted(owners):
            tot = totals.get(env_id)
            out.append(
                EnvSummary(
                    env_id=env_id,
                    owner=checksum(owners[env_id]),
                    versions=int(versions.get(env_id, 1)),
                    active=env_id not in inactive,
                    batches=int(tot.batches) if tot else 0,
                    traces=int(tot.traces) if tot else 0,
                    royalty=wei_of(tot, "royalty") if tot else Wei(0),
                )
            )
        return out

    def env(self, env_id: int) -> EnvReport:
        """One environment: owner, versions, activity per epoch and royalties."""
        with self._read() as (conn, _ident, _cursor):
            reg = conn.execute(
                select(t.env_registered).where(t.env_registered.c.env_id == env_id)
            ).first()
            if reg is None:
                count = conn.execute(select(func.count()).select_from(t.env_registered)).scalar()
                raise LedgerQueryError(
                    f"no environment {env_id} in the ledger ({count} registered, ids 1..{count})"
                )
            v, tr, es = t.env_versions.c, t.env_transfers.c, t.env_sums.c
            versions = [
                (int(r.version), cid_text(r.spec_cid) or "", int(r.block))
                for r in conn.execute(
                    select(t.env_versions).where(v.env_id == env_id).order_by(v.version)
                )
            ]
            transfers = [
                (checksum(r.from_address), checksum(r.to_address), int(r.block))
                for r in conn.execute(
                    select(t.env_transfers)
                    .where(tr.env_id == env_id)
                    .order_by(tr.block, tr.log_index)
                )
            ]
            deactivated = conn.execute(
                select(t.env_deactivations.c.bond_unlocks_at).where(
                    t.env_deactivations.c.env_id == env_id
                )
            ).scalar()
            ew = t.env_weights.c
            weights = {
                int(e): int(w)
                for e, w in conn.execute(select(ew.epoch, ew.weight).where(ew.env_id == env_id))
            }
            epochs = [
                EnvEpoch(
                    epoch=int(r.epoch),
                    batches=int(r.batches),
                    traces=int(r.traces),
                    consensus_bps=int(r.weight) // int(r.traces) if r.traces else None,
                    royalty=wei_of(r, "royalty"),
                    weight=weights.get(int(r.epoch)),
                )
                for r in conn.execute(
                    select(t.env_sums).where(es.env_id == env_id).order_by(es.epoch)
                )
            ]
            owner = current_owners(conn, [env_id])[env_id]
        return EnvReport(
            env_id=env_id,
            owner=checksum(owner),
            registrant=checksum(reg.owner),
            registered_block=int(reg.block),
            bond=wei_of(reg, "bond"),
            active=deactivated is None,
            bond_unlocks_at=None if deactivated is None else int(deactivated),
            versions=versions,
            transfers=transfers,
            batches=sum(e.batches for e in epochs),
            traces=sum(e.traces for e in epochs),
            royalty=Wei(sum(e.royalty for e in epochs)),
            epochs=epochs,
        )

    # ─── models ───────────────────────────────────────────────────────────────

    def models(self, resolve_metrics: MetricsResolver | None = None) -> list[ModelRow]:
        """The model lineage, oldest first, with each model's use and metrics if found."""
        with self._read() as (conn, _ident, _cursor):
            use = {r.model_id: r for r in conn.execute(select(t.model_sums))}
            rows = list(conn.execute(select(t.models).order_by(t.models.c.model_id)))
        children: dict[int, list[int]] = {}
        for r in rows:
            children.setdefault(int(r.parent_id), []).append(int(r.model_id))
        out = []
        for r in rows:
            u = use.get(r.model_id)
            row = ModelRow(
                model_id=int(r.model_id),
                parent_id=int(r.parent_id),
                registrar=checksum(r.registrar),
                block=int(r.block),
                checkpoint_cid=cid_text(r.checkpoint_cid) or "",
                dataset_cid=cid_text(r.dataset_cid),
                metrics_digest="0x" + bytes(r.metrics_digest).hex(),
                batches=int(u.batches) if u else 0,
                traces=int(u.traces) if u else 0,
                children=children.get(int(r.model_id), []),
            )
            found = resolve_metrics(row) if resolve_metrics is not None else None
            if found is not None:
                metrics, verified, source = found
                row = ModelRow(
                    **{
                        **row.__dict__,
                        "metrics": metrics,
                        "metrics_verified": verified,
                        "metrics_source": source,
                    }
                )
            out.append(row)
        return out

    # ─── addresses and leaderboards (worldgym.ledger.standings) ────────────────────────

    def address(self, address: str, *, recent: int = 10) -> AddressReport:
        """What ``address`` contributed and earned, in every role."""
        with self._read() as (conn, ident, _cursor):
            return standings.address_report(conn, ident, address, recent=recent)

    def top(
        self, role: str, *, epochs: tuple[int, int] | None = None, limit: int = 20
    ) -> TopReport:
        """The leaderboard of ``role`` (miner, validator or env) over ``epochs`` (inclusive)."""
        with self._read() as (conn, ident, _cursor):
            return standings.top(conn, ident, role, epochs=epochs, limit=limit)


def _validators_of(conn: Connection, epoch: int, batches: list[BatchRow]) -> list[ValidatorEpoch]:
    c, ve, sl, rs = t.commits.c, t.validator_epochs.c, t.slashes.c, t.reward_sums.c
    commits = list(
        conn.execute(select(t.commits).where(c.epoch == epoch).order_by(c.block, c.log_index))
    )
    reveals = {
        v: bytes(s)
        for v, s in conn.execute(
            select(t.reveals.c.validator, t.reveals.c.lanes).where(t.reveals.c.epoch == epoch)
        )
    }
    consensus = {
        b.index: b.consensus << 7 | (b.digest or 0) for b in batches if b.consensus is not None
    }
    derived = {
        r.validator: r for r in conn.execute(select(t.validator_epochs).where(ve.epoch == epoch))
    }
    slashed = {
        v: join_wei(hi, lo)
        for v, hi, lo in conn.execute(
            select(sl.validator, *wei_sum(t.slashes, "amount"))
            .where(sl.epoch == epoch)
            .group_by(sl.validator)
        )
    }
    paid = {
        r.account: wei_of(r, "amount")
        for r in conn.execute(
            select(t.reward_sums).where(rs.role == Role.VALIDATOR, rs.epoch == epoch)
        )
    }
    out = []
    for row in commits:
        d = derived.get(row.validator)
        blob = reveals.get(row.validator)
        scores = matches = None
        if blob is not None:
            words = unpack_words(blob)
            lanes = unpack_lanes(words, min(len(batches), len(words) * LANES_PER_WORD))
            scores = [lane_score(lane) for lane in lanes]
            matches = [consensus.get(i) == lane for i, lane in enumerate(lanes)]
        out.append(
            ValidatorEpoch(
                epoch=epoch,
                validator=checksum(row.validator),
                stake=wei_of(row, "stake"),
                revealed=blob is not None,
                agreement=None if d is None else int(d.agreement),
                agreement_bps=None if d is None else agreement_bps(d.agreement, d.possible),
                reward=paid.get(row.validator, Wei(0)),
                slashed=slashed.get(row.validator, Wei(0)),
                scores=scores,
                matches=matches,
            )
        )
    return out
