"""Writing the ledger: one transaction per chunk of logs, and undoing blocks after a reorg.

A chunk's event rows, its aggregate deltas, the rows derived from the epochs it
finalizes, its block hashes and the advanced cursor are committed together, and
the cursor moves only from the block the chunk starts after (compare-and-set),
so a crash or a second indexer never applies a chunk twice: re-running is
idempotent. :meth:`LedgerStore.rollback` is the exact inverse for every block
above a given one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from worldgym.ledger.errors import LedgerDatabaseError
from worldgym.ledger.events import Log
from worldgym.ledger.rows import (
    AGGREGATE_VALUES,
    BatchInfo,
    Deltas,
    aggregate_deltas,
    delta_rows,
    event_rows,
    validator_epoch_rows,
)
from worldgym.ledger.schema import (
    AGGREGATE_TABLES,
    DERIVED_TABLES,
    EVENT_TABLES,
    SCHEMA_VERSION,
    t,
)

__all__ = ["Cursor", "Identity", "LedgerStore"]

_CURSOR_ID = 1
_NO_HASH = bytes(32)
# Event tables that feed aggregates: their rows are read back before a rollback deletes them.
_AGGREGATED = (t.batches, t.batch_scores, t.rewards, t.claims, t.slashes, t.miner_slashes)


@dataclass(frozen=True)
class Identity:
    """Which deployment a ledger database indexes, and the clock it needs offline."""

    chain_id: int
    worldgym: str
    deploy_block: int
    genesis_block: int
    epoch_length: int
    commit_blocks: int
    reveal_blocks: int
    slash_bps: int
    schema_version: int = SCHEMA_VERSION

    def epoch_start(self, epoch: int) -> int:
        """First block of ``epoch``."""
        return self.genesis_block + epoch * self.epoch_length

    def epoch_at(self, block: int) -> int:
        """The epoch ``block`` belongs to (0 before genesis)."""
        return max(block - self.genesis_block, 0) // self.epoch_length


@dataclass(frozen=True)
class Cursor:
    """The last block indexed (its hash), and the chain head seen when it was."""

    block: int
    hash: bytes
    head: int


class LedgerStore:
    """The ledger database of one deployment."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ─── identity and cursor ──────────────────────────────────────────────────

    def identity(self) -> Identity | None:
        """The deployment this database indexes (None while empty)."""
        with self._connect() as conn:
            meta = {k: v for k, v in conn.execute(select(t.meta.c.key, t.meta.c.value))}
        if not meta:
            return None
        fields = Identity.__dataclass_fields__
        return Identity(
            **{
                k: (v if k == "worldgym" else int(v))  # type: ignore[arg-type]
                for k, v in meta.items()
                if k in fields
            }
        )

    def bind(self, identity: Identity) -> None:
        """Record ``identity`` in an empty database, or check that it is the one recorded."""
        found = self.identity()
        if found is None:
            with self._begin() as conn:
                conn.execute(
                    insert(t.meta),
                    [{"key": k, "value": str(v)} for k, v in asdict(identity).items()],
                )
                conn.execute(
                    insert(t.cursor),
                    {
                        "id": _CURSOR_ID,
                        "head": 0,
                        "block": identity.deploy_block - 1,
                        "hash": _NO_HASH,
                    },
                )
            return
        same = (found.chain_id, found.worldgym.lower(), found.deploy_block)
        if same != (identity.chain_id, identity.worldgym.lower(), identity.deploy_block):
            raise LedgerDatabaseError(
                f"this ledger database indexes the deployment at {found.worldgym} on chain "
                f"{found.chain_id}, not {identity.worldgym} on chain {identity.chain_id}: "
                "point [ledger] url at another database, or delete this one"
            )
        if found.schema_version != SCHEMA_VERSION:
            raise LedgerDatabaseError(
                f"this ledger database has schema {found.schema_version}, this WorldGym "
                f"writes schema {SCHEMA_VERSION}: delete it and index again"
            )

    def cursor(self) -> Cursor | None:
        """Where indexing stands (None before :meth:`bind`)."""
        with self._connect() as conn:
            row = conn.execute(select(t.cursor).where(t.cursor.c.id == _CURSOR_ID)).first()
        return None if row is None else Cursor(row.block, bytes(row.hash), row.head)

    def anchors(self, upto: int) -> list[tuple[int, bytes]]:
        """Stored ``(number, hash)`` of blocks at or below ``upto``, ascending."""
        with self._connect() as conn:
            rows = conn.execute(
                select(t.blocks.c.number, t.blocks.c.hash)
                .where(t.blocks.c.number <= upto)
                .order_by(t.blocks.c.number)
            )
            return [(n, bytes(h)) for n, h in rows]

    # ─── writing ──────────────────────────────────────────────────────────────

    def apply_chunk(
        self, logs: Sequence[Log], *, start: int, end: int, end_hash: bytes, head: int
    ) -> int | None:
        """Store the logs of blocks ``[start, end]`` and move the cursor to ``end``.

        Returns the number of event rows written, or None if the cursor was not at
        ``start - 1`` (another indexer got there first: nothing is written).
        """
        try:
            with self._begin() as conn:
                moved = conn.execute(
                    update(t.cursor)
                    .where(t.cursor.c.id == _CURSOR_ID, t.cursor.c.block == start - 1)
                    .values(block=end, hash=end_hash, head=head)
                ).rowcount
                if moved != 1:
                    raise _RacedError
                chunk = event_rows(logs, lambda epoch, idx: _lookup_batches(conn, epoch, idx))
                for table, rows in chunk.rows.items():
                    _bulk_insert(conn, table, rows)
                deltas: Deltas = {}
                aggregate_deltas(chunk.rows, +1, deltas)
                _apply_deltas(conn, deltas)
                for epoch, block in chunk.finalized:
                    derived = _derive_validator_epochs(conn, epoch, block)
                    if derived:
                        conn.execute(insert(t.validator_epochs), derived)
                anchors = {**chunk.blocks, end: end_hash}
                conn.execute(
                    insert(t.blocks), [{"number": n, "hash": h} for n, h in anchors.items()]
                )
                return chunk.count
        except _RacedError:
            return None
        except SQLAlchemyError as exc:
            raise LedgerDatabaseError(f"storing blocks {start}..{end} failed: {exc}") from None

    def rollback(self, to_block: int, to_hash: bytes, head: int) -> int:
        """Undo every block above ``to_block``; return the number of event rows removed."""
        try:
            with self._begin() as conn:
                doomed = {
                    table: [
                        row._asdict()
                        for row in conn.execute(select(table).where(table.c.block > to_block))
                    ]
                    for table in _AGGREGATED
                }
                deltas: Deltas = {}
                aggregate_deltas(doomed, -1, deltas)
                _apply_deltas(conn, deltas)
                for table in AGGREGATE_TABLES:
                    conn.execute(delete(table).where(table.c.n == 0))
                removed = 0
                for table in EVENT_TABLES:
                    removed += conn.execute(delete(table).where(table.c.block > to_block)).rowcount
                for table in DERIVED_TABLES:
                    conn.execute(delete(table).where(table.c.block > to_block))
                conn.execute(delete(t.blocks).where(t.blocks.c.number > to_block))
                conn.execute(
                    update(t.cursor)
                    .where(t.cursor.c.id == _CURSOR_ID)
                    .values(block=to_block, hash=to_hash, head=head)
                )
                return int(removed)
        except SQLAlchemyError as exc:
            raise LedgerDatabaseError(f"undoing blocks above {to_block} failed: {exc}") from None

    # ─── connections ──────────────────────────────────────────────────────────

    def _connect(self) -> Any:
        try:
            return self.engine.connect()
        except SQLAlchemyError as exc:
            raise LedgerDatabaseError(f"cannot open the ledger database: {exc}") from None

    def _begin(self) -> Any:
        try:
            return self.engine.begin()
        except SQLAlchemyError as exc:
            raise LedgerDatabaseError(f"cannot write the ledger database: {exc}") from None


class _RacedError(Exception):
    """The cursor moved under a chunk: another indexer stored it first."""


def _bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT many rows of one shape through the driver's executemany.

    The statement is compiled once for the connection's dialect; the rows go to the
    driver as plain tuples, skipping SQLAlchemy's per-row parameter processing, which
    the ledger's column types (integers, strings, bytes, booleans) do not need.
    """
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(rows[0]))
    order = compiled.positiontup
    params: list[Any] = [tuple(r[k] for k in order) for r in rows] if order else rows
    conn.exec_driver_sql(compiled.string, params)


def _apply_deltas(conn: Connection, deltas: Deltas) -> None:
    for table, rows in delta_rows(deltas).items():
        if rows:
            conn.execute(_upsert(conn, table), rows)


def _upsert(conn: Connection, table: Table) -> Any:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET value = value + excluded.value."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    keys = [c for c in table.primary_key.columns]
    values = {name: table.c[name] + stmt.excluded[name] for name in AGGREGATE_VALUES[table]}
    return stmt.on_conflict_do_update(index_elements=keys, set_=values)


def _lookup_batches(conn: Connection, epoch: int, indices: Sequence[int]) -> dict[int, BatchInfo]:
    b = t.batches.c
    rows = conn.execute(
        select(b.idx, b.miner, b.env_id, b.trace_count).where(
            b.epoch == epoch, b.idx.in_(sorted(set(indices)))
        )
    )
    return {r.idx: BatchInfo(r.miner, r.env_id, r.trace_count) for r in rows}


def _derive_validator_epochs(conn: Connection, epoch: int, block: int) -> list[dict[str, Any]]:
    commits: list[dict[str, Any]] = [
        r._asdict()
        for r in conn.execute(
            select(t.commits.c.validator, t.commits.c.stake_hi, t.commits.c.stake_lo)
            .where(t.commits.c.epoch == epoch)
            .order_by(t.commits.c.block, t.commits.c.log_index)
        )
    ]
    reveals = {
        v: bytes(s)
        for v, s in conn.execute(
            select(t.reveals.c.validator, t.reveals.c.lanes).where(t.reveals.c.epoch == epoch)
        )
    }
    s = t.batch_scores.c
    scores = conn.execute(
        select(s.idx, s.consensus, s.digest, s.weight, s.trace_count).where(s.epoch == epoch)
    )
    return validator_epoch_rows(epoch, block, commits, reveals, [tuple(r) for r in scores])
