"""The miner's durable spool: every batch is on local disk before it is pinned or submitted.

A batch moves through states, each written (and fsynced, SQLite in WAL mode
with ``synchronous=FULL``) before the step that depends on it::

    built ──pin──▶ pinned ──sign──▶ sending ──receipt──▶ confirmed
                     │                 │
                     └─────────────────┴──▶ expired (its epoch ended first) / failed (reverted)

The document itself is a file named by its CID, written atomically (temp
file, fsync, rename) before its row exists. ``sending`` keeps the signed
transaction's hash, nonce and raw bytes, recorded *before* the bytes go to the
node: after a crash the miner looks the hash up, and if the node never saw it
and the nonce is still free, broadcasts the very same bytes, which can land
at most once. Nothing in the spool is ever deleted by the miner.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from worldgym.core.files import write_durably
from worldgym.miner.errors import SpoolError

__all__ = ["OPEN_STATES", "BatchState", "Spool", "SpoolEntry"]


class BatchState(StrEnum):
    """Where a spooled batch is in its life."""

    BUILT = "built"
    PINNED = "pinned"
    SENDING = "sending"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"
    FAILED = "failed"


OPEN_STATES = (BatchState.BUILT, BatchState.PINNED, BatchState.SENDING)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    epoch INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    env_id INTEGER NOT NULL,
    env_version INTEGER NOT NULL,
    model_id INTEGER NOT NULL,
    trace_count INTEGER NOT NULL,
    cid TEXT NOT NULL,
    state TEXT NOT NULL,
    tx_hash TEXT,
    tx_nonce INTEGER,
    raw_tx BLOB,
    batch_index INTEGER,
    block_number INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    note TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
-- One live batch per (epoch, sequence): an expired or failed batch never took its sequence
-- number on chain, so the next batch of the epoch is built for the same one.
CREATE UNIQUE INDEX IF NOT EXISTS batches_live_sequence ON batches (epoch, sequence)
    WHERE state NOT IN ('expired', 'failed');
"""
# Spools written before that held UNIQUE (epoch, sequence) over every row, which made the
# batch after an expired or failed one fail to spool; they are rebuilt without it.
_OLD_UNIQUE = "sqlite_autoindex_batches_1"


@dataclass(frozen=True)
class SpoolEntry:
    """One spooled batch."""

    id: int
    epoch: int
    sequence: int
    env_id: int
    env_version: int
    model_id: int
    trace_count: int
    cid: str
    state: BatchState
    tx_hash: str | None
    tx_nonce: int | None
    raw_tx: bytes | None
    batch_index: int | None
    block_number: int | None
    attempts: int
    note: str | None
    created_at: float
    updated_at: float


class Spool:
    """Batches of one miner on one deployment, under ``root`` (a directory)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.documents = self.root / "batches"
        try:
            self.documents.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.root / "spool.db", isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._migrate()
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise SpoolError(f"cannot open the miner spool in {self.root}: {exc}") from None
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _migrate(self) -> None:
        """Drop the old table-wide UNIQUE (epoch, sequence), keeping every row."""
        old = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (_OLD_UNIQUE,)
        ).fetchone()
        if old is None:
            return
        create = _SCHEMA.split(";", maxsplit=1)[0].replace("batches (", "batches_v2 (", 1)
        self._db.executescript(
            "BEGIN IMMEDIATE;"
            f"{create};"
            "INSERT INTO batches_v2 SELECT * FROM batches;"
            "DROP TABLE batches;"
            "ALTER TABLE batches_v2 RENAME TO batches;"
            "COMMIT;"
        )

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            yield self._db
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._db.execute("ROLLBACK")
            raise SpoolError(f"the miner spool in {self.root} refused a write: {exc}") from None

    def document_path(self, cid: str) -> Path:
        """Where the document with ``cid`` is kept."""
        return self.documents / f"{cid}.json"

    def add(
        self,
        *,
        epoch: int,
        sequence: int,
        env_id: int,
        env_version: int,
        model_id: int,
        trace_count: int,
        cid: str,
        document: bytes,
    ) -> SpoolEntry:
        """Write the document to disk, then record the batch as ``built``."""
        _write_atomically(self.document_path(cid), document)
        now = time.time()
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO batches (epoch, sequence, env_id, env_version, model_id, trace_count,"
                " cid, state, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (epoch, sequence, env_id, env_version, model_id, trace_count, cid,
                 BatchState.BUILT.value, now, now),
            )  # fmt: skip
            row_id = cur.lastrowid
        assert row_id is not None
        return self.get(row_id)

    def document(self, entry: SpoolEntry) -> bytes:
        """The document bytes of ``entry``."""
        try:
            return self.document_path(entry.cid).read_bytes()
        except OSError as exc:
            raise SpoolError(f"batch {entry.cid} is missing from the spool: {exc}") from None

    def update(self, entry_id: int, state: BatchState, **fields: object) -> SpoolEntry:
        """Move a batch to ``state``, setting ``fields`` (tx_hash, tx_nonce, raw_tx, ...)."""
        allowed = {"tx_hash", "tx_nonce", "raw_tx", "batch_index", "block_number", "note"}
        if not set(fields) <= allowed:
            raise SpoolError(f"unknown spool fields {sorted(set(fields) - allowed)}")
        columns = ["state = ?", "updated_at = ?", *(f"{k} = ?" for k in fields)]
        values = [state.value, time.time(), *fields.values()]
        with self._write() as db:
            db.execute(f"UPDATE batches SET {', '.join(columns)} WHERE id = ?", (*values, entry_id))
        return self.get(entry_id)

    def bump_attempts(self, entry_id: int, note: str) -> None:
        """Count a failed attempt and why (the state does not change)."""
        with self._write() as db:
            db.execute(
                "UPDATE batches SET attempts = attempts + 1, note = ?, updated_at = ? WHERE id = ?",
                (note[:500], time.time(), entry_id),
            )

    def get(self, entry_id: int) -> SpoolEntry:
        """The batch with row id ``entry_id``."""
        row = self._db.execute("SELECT * FROM batches WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise SpoolError(f"no spooled batch with id {entry_id}")
        return _entry(row)

    def entries(self, *states: BatchState, epoch: int | None = None) -> list[SpoolEntry]:
        """Batches in any of ``states`` (all when none given), oldest first."""
        query, args = "SELECT * FROM batches WHERE 1=1", list[object]()
        if states:
            query += f" AND state IN ({','.join('?' * len(states))})"
            args.extend(s.value for s in states)
        if epoch is not None:
            query += " AND epoch = ?"
            args.append(epoch)
        return [_entry(r) for r in self._db.execute(query + " ORDER BY id", args)]

    def open_entries(self) -> list[SpoolEntry]:
        """Batches not yet confirmed, expired or failed, oldest first."""
        return self.entries(*OPEN_STATES)


def _entry(row: sqlite3.Row) -> SpoolEntry:
    data = dict(row)
    data["state"] = BatchState(data["state"])
    data["raw_tx"] = bytes(data["raw_tx"]) if data["raw_tx"] is not None else None
    return SpoolEntry(**data)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either nothing or all of it."""
    if path.exists() and path.read_bytes() == data:
        return
    write_durably(path, data)
