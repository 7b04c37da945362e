"""The ledger's tables (SQLAlchemy Core) and opening a database.

Three kinds of table:

- **event tables**, one per contract event the ledger follows, append-only, keyed
  by ``(block, log_index)``. Undoing a reorg deletes the rows above a block.
- **derived tables** computed when an epoch finalizes (a validator's agreement
  with consensus is in no event), keyed by the block of that ``EpochFinalized``
  event, so a reorg undoes them the same way.
- **aggregate tables** (``*_sums``) that make the leaderboards fast. They are
  moved by signed deltas in the same transaction as the event rows that feed
  them, in both directions (indexing adds, undoing a reorg subtracts); ``n``
  counts the events behind a row, and a row whose ``n`` falls to 0 is deleted.

Addresses are lower-case ``0x`` hex (checksummed on display); CIDs, hashes,
packed lanes and packed environment weights are raw bytes; amounts are
``(hi, lo)`` limb pairs (``worldgym.ledger.wei``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from worldgym.ledger.errors import LedgerDatabaseError
from worldgym.ledger.wei import wei_columns

__all__ = [
    "AGGREGATE_TABLES",
    "DERIVED_TABLES",
    "EVENT_TABLES",
    "SCHEMA_VERSION",
    "Kind",
    "Role",
    "StakeKind",
    "metadata",
    "open_engine",
    "t",
]

SCHEMA_VERSION = 2
metadata = MetaData()


class Role:
    """``IWorldGymEvents.Role`` as stored in ``rewards.role``."""

    MINER = 0
    VALIDATOR = 1
    ENVIRONMENT = 2
    NAMES = ("miner", "validator", "environment")


class Kind:
    """What an ``account_sums`` row totals: credits in a role (the role's number), or these."""

    CLAIMED = 3
    SLASHED = 4  # as a validator that committed and did not reveal
    MINER_SLASHED = 5  # as a miner whose batch the stake majority flagged FRAUD


class StakeKind:
    """``stake_events.kind``: which Staking event the row is."""

    STAKED = 0
    UNBOND = 1
    WITHDRAWN = 2
    SLASHED = 3


def _address(name: str, **kw: Any) -> Column[str]:
    return Column(name, String(42), **kw)


# Aggregates are read by key ranges: on SQLite, store them in key order (no rowid), so a
# range of keys is one sequential read. Other dialects ignore the option.
_CLUSTERED: dict[str, Any] = {"sqlite_with_rowid": False}


def _event(name: str, *columns: Any) -> Table:
    """An append-only event table keyed by where its log is in the chain."""
    return Table(
        name,
        metadata,
        Column("block", BigInteger, primary_key=True),
        Column("log_index", Integer, primary_key=True),
        *columns,
    )


class _Tables:
    """Every table, as attributes (``t.batches``), so queries read like SQL."""

    meta = Table(
        "meta",
        metadata,
        Column("key", String(64), primary_key=True),
        Column("value", String(256), nullable=False),
    )
    cursor = Table(
        "sync_cursor",
        metadata,
        Column("id", SmallInteger, primary_key=True),
        Column("block", BigInteger, nullable=False),
        Column("hash", LargeBinary(32), nullable=False),
        Column("head", BigInteger, nullable=False),
    )
    # Hashes of the blocks the ledger holds events of (and of each chunk's last block):
    # the anchors reorg detection compares with the chain.
    blocks = Table(
        "blocks",
        metadata,
        Column("number", BigInteger, primary_key=True),
        Column("hash", LargeBinary(32), nullable=False),
    )

    # ─── events: EnvironmentRegistry ───────────────────────────────────────────
    env_registered = _event(
        "env_registered",
        Column("env_id", BigInteger, nullable=False, unique=True),
        _address("owner", nullable=False),
        Column("spec_cid", LargeBinary, nullable=False),
        *wei_columns("bond"),
    )
    env_versions = _event(
        "env_versions",
        Column("env_id", BigInteger, nullable=False),
        Column("version", BigInteger, nullable=False),
        Column("spec_cid", LargeBinary, nullable=False),
        Index("ix_env_versions_env", "env_id", "version", unique=True),
    )
    env_transfers = _event(
        "env_transfers",
        Column("env_id", BigInteger, nullable=False, index=True),
        _address("from_address", nullable=False),
        _address("to_address", nullable=False, index=True),
    )
    env_deactivations = _event(
        "env_deactivations",
        Column("env_id", BigInteger, nullable=False, index=True),
        Column("bond_unlocks_at", BigInteger, nullable=False),
    )
    env_bond_withdrawals = _event(
        "env_bond_withdrawals",
        Column("env_id", BigInteger, nullable=False, index=True),
        _address("owner", nullable=False),
        *wei_columns("amount"),
    )

    # ─── events: ModelRegistry and Staking ────────────────────────────────────
    models = _event(
        "models",
        Column("model_id", BigInteger, nullable=False, unique=True),
        Column("parent_id", BigInteger, nullable=False),
        _address("registrar", nullable=False),
        Column("checkpoint_cid", LargeBinary, nullable=False),
        Column("dataset_cid", LargeBinary, nullable=False),
        Column("metrics_digest", LargeBinary(32), nullable=False),
    )
    stake_events = _event(
        "stake_events",
        _address("validator", nullable=False),  # the staker: a validator or a miner
        Column("kind", SmallInteger, nullable=False),
        *wei_columns("amount"),
        *wei_columns("staked", nullable=True),  # Staked: active stake after
        Column("release_epoch", BigInteger, nullable=True),  # UnbondRequested
        Column("bps", Integer, nullable=True),  # Slashed: the fraction taken
        Index("ix_stake_events_validator", "validator", "block", "log_index"),
    )

    # ─── events: WorldGym ─────────────────────────────────────────────────────
    seeds = _event(
        "seeds",
        Column("epoch", BigInteger, nullable=False, unique=True),
        Column("seed", LargeBinary(32), nullable=False),
        Column("source_block", BigInteger, nullable=False),
    )
    batches = _event(
        "batches",
        Column("epoch", BigInteger, nullable=False),
        Column("idx", BigInteger, nullable=False),
        _address("miner", nullable=False),
        Column("env_id", BigInteger, nullable=False),
        Column("env_version", BigInteger, nullable=False),
        Column("sequence", BigInteger, nullable=False),
        Column("trace_count", BigInteger, nullable=False),
        Column("model_id", BigInteger, nullable=False),
        Column("cid", LargeBinary, nullable=False),
        Column("tx_hash", LargeBinary(32), nullable=False),
        Index("ix_batches_epoch_idx", "epoch", "idx", unique=True),
        Index("ix_batches_miner", "miner", "epoch", "idx"),
        Index("ix_batches_env", "env_id", "epoch"),
    )
    commits = _event(
        "commits",
        Column("epoch", BigInteger, nullable=False),
        _address("validator", nullable=False),
        Column("commitment", LargeBinary(32), nullable=False),
        *wei_columns("stake"),
        Index("ix_commits_epoch", "epoch", "validator", unique=True),
        Index("ix_commits_validator", "validator", "epoch"),
    )
    reveals = _event(
        "reveals",
        Column("epoch", BigInteger, nullable=False),
        _address("validator", nullable=False),
        Column("lanes", LargeBinary, nullable=False),  # packed words, 32 bytes each
        Column("env_weights", LargeBinary, nullable=False),  # packed words, 32 bytes each
        Index("ix_reveals_epoch", "epoch", "validator", unique=True),
        Index("ix_reveals_validator", "validator", "epoch"),
    )
    batch_scores = _event(
        "batch_scores",
        Column("epoch", BigInteger, nullable=False),
        Column("idx", BigInteger, nullable=False),
        Column("consensus", Integer, nullable=False),  # the consensus score; 16383 is FRAUD
        Column("digest", Integer, nullable=False),  # the consensus lane's digest
        Column("weight", BigInteger, nullable=False),  # score x traces, 0 for FRAUD
        # copied from the batch, so a score row carries what the aggregates need
        _address("miner", nullable=False),
        Column("env_id", BigInteger, nullable=False),
        Column("trace_count", BigInteger, nullable=False),
        Index("ix_batch_scores_epoch_idx", "epoch", "idx", unique=True),
        Index("ix_batch_scores_miner", "miner", "epoch"),
    )
    env_weights = _event(
        "env_weights",
        Column("epoch", BigInteger, nullable=False),
        Column("env_id", BigInteger, nullable=False),
        Column("weight", Integer, nullable=False),  # stake-weighted median, 0..10,000
        Index("ix_env_weights_epoch_env", "epoch", "env_id", unique=True),
        Index("ix_env_weights_env", "env_id", "epoch"),
    )
    miner_slashes = _event(
        "miner_slashes",
        Column("epoch", BigInteger, nullable=False),
        Column("idx", BigInteger, nullable=False),
        _address("miner", nullable=False),
        *wei_columns("amount"),
        Index("ix_miner_slashes_miner", "miner", "epoch"),
        Index("ix_miner_slashes_epoch", "epoch", "idx"),
    )
    settlements = _event(
        "settlements",
        Column("epoch", BigInteger, nullable=False, unique=True),
        *wei_columns("minted"),
        *wei_columns("carried_in"),
        *wei_columns("miner_pot"),
        *wei_columns("validator_pot"),
        *wei_columns("environment_pot"),
    )
    rewards = _event(
        "rewards",
        Column("epoch", BigInteger, nullable=False),
        _address("account", nullable=False),
        Column("role", SmallInteger, nullable=False),
        Column("subject", BigInteger, nullable=False),
        *wei_columns("amount"),
        Index("ix_rewards_account", "account", "role", "subject", "amount_hi", "amount_lo"),
        Index("ix_rewards_epoch", "epoch", "role", "subject"),
    )
    slashes = _event(
        "slashes",
        Column("epoch", BigInteger, nullable=False),
        _address("validator", nullable=False),
        *wei_columns("amount"),
        Index("ix_slashes_validator", "validator", "epoch"),
        Index("ix_slashes_epoch", "epoch"),
    )
    finalizations = _event(
        "finalizations",
        Column("epoch", BigInteger, nullable=False, unique=True),
        *wei_columns("carry_out"),
    )
    claims = _event(
        "claims",
        _address("account", nullable=False),
        *wei_columns("amount"),
        Index("ix_claims_account", "account", "block"),
    )

    # ─── derived when an epoch finalizes ──────────────────────────────────────
    validator_epochs = Table(
        "validator_epochs",
        metadata,
        Column("epoch", BigInteger, primary_key=True),
        _address("validator", primary_key=True),
        Column("block", BigInteger, nullable=False, index=True),  # of EpochFinalized
        *wei_columns("stake"),
        Column("revealed", Boolean, nullable=False),
        # the credit: sum over batches whose consensus lane it revealed exactly of the weight
        # (traces x 10,000 for FRAUD)
        Column("agreement", BigInteger, nullable=False),
        # the most it could have earned: the same sum over every scored batch
        Column("possible", BigInteger, nullable=False),
        Index("ix_validator_epochs_validator", "validator", "epoch"),
    )

    # ─── aggregates ───────────────────────────────────────────────────────────
    reward_sums = Table(
        "reward_sums",
        metadata,
        Column("role", SmallInteger, primary_key=True),
        Column("epoch", BigInteger, primary_key=True),
        _address("account", primary_key=True),
        *wei_columns("amount"),
        Column("n", BigInteger, nullable=False, default=0),
        Index("ix_reward_sums_account", "account", "epoch", "role", "amount_hi", "amount_lo"),
        **_CLUSTERED,
    )
    account_sums = Table(
        "account_sums",
        metadata,
        Column("kind", SmallInteger, primary_key=True),
        _address("account", primary_key=True),
        *wei_columns("amount"),
        Column("n", BigInteger, nullable=False, default=0),
        **_CLUSTERED,
    )
    env_sums = Table(
        "env_sums",
        metadata,
        Column("env_id", BigInteger, primary_key=True),
        Column("epoch", BigInteger, primary_key=True),
        Column("batches", BigInteger, nullable=False, default=0),
        Column("traces", BigInteger, nullable=False, default=0),
        Column("weight", BigInteger, nullable=False, default=0),
        *wei_columns("royalty"),
        Column("n", BigInteger, nullable=False, default=0),
        Index("ix_env_sums_epoch", "epoch"),
        **_CLUSTERED,
    )
    miner_sums = Table(
        "miner_sums",
        metadata,
        _address("miner", primary_key=True),
        Column("epoch", BigInteger, primary_key=True),
        Column("batches", BigInteger, nullable=False, default=0),
        Column("traces", BigInteger, nullable=False, default=0),
        Column("weight", BigInteger, nullable=False, default=0),  # of scored batches
        Column("scored_traces", BigInteger, nullable=False, default=0),
        Column("fraud", BigInteger, nullable=False, default=0),  # batches flagged FRAUD
        Column("n", BigInteger, nullable=False, default=0),
        **_CLUSTERED,
    )
    model_sums = Table(
        "model_sums",
        metadata,
        Column("model_id", BigInteger, primary_key=True),
        Column("batches", BigInteger, nullable=False, default=0),
        Column("traces", BigInteger, nullable=False, default=0),
        Column("n", BigInteger, nullable=False, default=0),
        **_CLUSTERED,
    )


t = _Tables
EVENT_TABLES: tuple[Table, ...] = (
    t.env_registered,
    t.env_versions,
    t.env_transfers,
    t.env_deactivations,
    t.env_bond_withdrawals,
    t.models,
    t.stake_events,
    t.seeds,
    t.batches,
    t.commits,
    t.reveals,
    t.batch_scores,
    t.env_weights,
    t.miner_slashes,
    t.settlements,
    t.rewards,
    t.slashes,
    t.finalizations,
    t.claims,
)
DERIVED_TABLES: tuple[Table, ...] = (t.validator_epochs,)
AGGREGATE_TABLES: tuple[Table, ...] = (
    t.reward_sums, t.account_sums, t.env_sums, t.miner_sums, t.model_sums,
)  # fmt: skip


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    # WAL: the dashboard reads while the indexer writes; NORMAL is durable across crashes
    # of the process (a committed chunk survives), which is what a re-indexable cache needs.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _create_tables(engine: Engine, attempts: int = 20) -> None:
    """Create the missing tables, also while another process (a follower beside a dashboard)
    creates them: its CREATE between this one's check and its own is not an error."""
    for attempt in range(attempts):
        try:
            metadata.create_all(engine)
            return
        except OperationalError as exc:
            if "already exists" not in str(exc) or attempt == attempts - 1:
                raise


def open_engine(url: str) -> Engine:
    """An engine for ``url`` with the ledger's tables created; SQLite and PostgreSQL only."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LedgerDatabaseError(
            f"{url!r} is not a database URL: use sqlite:///PATH or postgresql+psycopg://..."
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise LedgerDatabaseError(
            f"the ledger runs on SQLite or PostgreSQL, not {backend!r}: fix [ledger] url"
        )
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed)
        if backend == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        _create_tables(engine)
    except (SQLAlchemyError, ImportError) as exc:
        raise LedgerDatabaseError(f"cannot open the ledger database {parsed!r}: {exc}") from None
    return engine
