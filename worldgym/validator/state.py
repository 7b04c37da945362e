"""The validator's durable commit-reveal state: scores and salt on disk before any commit.

One row per epoch, in SQLite (WAL, ``synchronous=FULL``), in a file only its
owner can read (the salt is a secret until the reveal)::

    scored ──commit tx──▶ committed ──reveal tx──▶ revealed ──▶ finalized

The row (scores, the lanes and environment weights committed to, salt,
commitment) is written and synced *before* the commit transaction is signed, so
a crash at any point leaves what the reveal needs.
After a restart the validator asks the chain whether its commitment landed
and carries on from there; it never commits twice and never loses a salt.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from worldgym.validator.errors import StateError

__all__ = ["EpochRecord", "EpochState", "ValidatorState"]


class EpochState(StrEnum):
    """Where this validator is with one epoch."""

    SCORED = "scored"
    COMMITTED = "committed"
    REVEALED = "revealed"
    FINALIZED = "finalized"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS epochs (
    epoch INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    scores TEXT NOT NULL,
    reasons TEXT NOT NULL,
    salt BLOB NOT NULL,
    commitment BLOB NOT NULL,
    commit_tx TEXT,
    reveal_tx TEXT,
    updated_at REAL NOT NULL,
    lanes TEXT NOT NULL DEFAULT '[]',
    env_weights TEXT NOT NULL DEFAULT '{}'
);
"""
# Columns added since the first state files (protocol v2): added in place to older files.
_ADDED_COLUMNS = {
    "lanes": "TEXT NOT NULL DEFAULT '[]'",
    "env_weights": "TEXT NOT NULL DEFAULT '{}'",
}


@dataclass(frozen=True)
class EpochRecord:
    """This validator's verdicts for one epoch and how far it got.

    ``lanes`` and ``env_weights`` are exactly what it committed to (``score << 7 | digest``
    per batch, and ``{env_id: weight}``); ``scores`` are the batch scores for people.
    """

    epoch: int
    state: EpochState
    scores: list[int]
    reasons: list[str]
    salt: bytes
    commitment: bytes
    commit_tx: str | None
    reveal_tx: str | None
    lanes: list[int] = field(default_factory=list)
    env_weights: dict[int, int] = field(default_factory=dict)


class ValidatorState:
    """The state file of one validator account on one deployment."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
            os.chmod(self.path, 0o600)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            have = {row[1] for row in self._db.execute("PRAGMA table_info(epochs)")}
            for column, kind in _ADDED_COLUMNS.items():
                if column not in have:
                    self._db.execute(f"ALTER TABLE epochs ADD COLUMN {column} {kind}")
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot open the validator state {self.path}: {exc}") from None
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _execute(self, sql: str, args: tuple[Any, ...]) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(sql, args)
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._db.execute("ROLLBACK")
            raise StateError(f"the validator state {self.path} refused a write: {exc}") from None

    def record_scores(
        self,
        epoch: int,
        scores: list[int],
        reasons: list[str],
        salt: bytes,
        commitment: bytes,
        *,
        lanes: list[int],
        env_weights: dict[int, int],
    ) -> EpochRecord:
        """Keep the verdicts, salt and commitment of ``epoch`` (before anything is sent)."""
        existing = self.get(epoch)
        if existing is not None:
            raise StateError(
                f"epoch {epoch} was already scored ({existing.state.value}); scores are final "
                "once recorded, so that the commitment on chain can always be revealed"
            )
        self._execute(
            "INSERT INTO epochs (epoch, state, scores, reasons, salt, commitment, updated_at, "
            "lanes, env_weights) VALUES (?,?,?,?,?,?,?,?,?)",
            (epoch, EpochState.SCORED.value, json.dumps(scores), json.dumps(reasons), salt,
             commitment, time.time(), json.dumps(lanes),
             json.dumps({str(k): v for k, v in env_weights.items()})),
        )  # fmt: skip
        record = self.get(epoch)
        assert record is not None
        return record

    def advance(self, epoch: int, state: EpochState, **tx: str) -> EpochRecord:
        """Move ``epoch`` to ``state`` (with ``commit_tx`` / ``reveal_tx`` when given)."""
        allowed = {"commit_tx", "reveal_tx"}
        if not set(tx) <= allowed:
            raise StateError(f"unknown fields {sorted(set(tx) - allowed)}")
        sets = ", ".join(["state = ?", "updated_at = ?", *(f"{k} = ?" for k in tx)])
        self._execute(
            f"UPDATE epochs SET {sets} WHERE epoch = ?",
            (state.value, time.time(), *tx.values(), epoch),
        )
        record = self.get(epoch)
        if record is None:
            raise StateError(f"epoch {epoch} has no scores recorded")
        return record

    def get(self, epoch: int) -> EpochRecord | None:
        """The record of ``epoch``, if scored."""
        row = self._db.execute("SELECT * FROM epochs WHERE epoch = ?", (epoch,)).fetchone()
        return None if row is None else _record(row)

    def records(self) -> list[EpochRecord]:
        """Every epoch, oldest first."""
        return [_record(r) for r in self._db.execute("SELECT * FROM epochs ORDER BY epoch")]


def _record(row: sqlite3.Row) -> EpochRecord:
    return EpochRecord(
        epoch=int(row["epoch"]),
        state=EpochState(row["state"]),
        scores=[int(s) for s in json.loads(row["scores"])],
        reasons=[str(r) for r in json.loads(row["reasons"])],
        salt=bytes(row["salt"]),
        commitment=bytes(row["commitment"]),
        commit_tx=row["commit_tx"],
        reveal_tx=row["reveal_tx"],
        lanes=[int(x) for x in json.loads(row["lanes"])],
        env_weights={int(k): int(v) for k, v in json.loads(row["env_weights"]).items()},
    )
