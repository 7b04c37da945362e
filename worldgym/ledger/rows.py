"""From decoded events to table rows, and from rows to aggregate deltas.

:func:`event_rows` maps each followed event to one row of its event table.
:func:`aggregate_deltas` maps event rows to signed increments of the aggregate
tables; the same function serves indexing (sign +1) and undoing a reorg (sign
-1, over the rows about to be deleted), which is what keeps the aggregates equal
to the event rows. :func:`validator_epoch_rows` derives the validators' credit
(the weight of the batches whose consensus lane each revealed exactly) when an
epoch finalizes (no event carries it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table

from worldgym.chain.protocol_math import FRAUD, LANES_PER_WORD, SCORE_SCALE, unpack_lanes
from worldgym.ledger.errors import LedgerDecodeError
from worldgym.ledger.events import Log
from worldgym.ledger.schema import Kind, Role, StakeKind, t
from worldgym.ledger.wei import split_wei

__all__ = [
    "AGGREGATE_VALUES",
    "BatchInfo",
    "ChunkRows",
    "Deltas",
    "aggregate_deltas",
    "batch_credit",
    "delta_rows",
    "event_rows",
    "pack_words",
    "unpack_words",
    "validator_epoch_rows",
]

Row = dict[str, Any]


@dataclass(frozen=True)
class BatchInfo:
    """What a batch score row copies from its batch."""

    miner: str
    env_id: int
    trace_count: int


@dataclass
class ChunkRows:
    """The rows of one chunk of logs, by table, and the epochs it finalizes."""

    rows: dict[Table, list[Row]] = field(default_factory=dict)
    blocks: dict[int, bytes] = field(default_factory=dict)
    finalized: list[tuple[int, int]] = field(default_factory=list)  # (epoch, block)

    def add(self, table: Table, row: Row) -> None:
        """Queue ``row`` for ``table``."""
        self.rows.setdefault(table, []).append(row)

    @property
    def count(self) -> int:
        """Event rows queued."""
        return sum(len(rows) for rows in self.rows.values())


def _wei(name: str, value: int) -> Row:
    hi, lo = split_wei(value)
    return {f"{name}_hi": hi, f"{name}_lo": lo}


def pack_words(words: Sequence[int]) -> bytes:
    """Packed words as bytes (32 per word), the way ``reveals.lanes`` and ``env_weights``
    store them."""
    return b"".join(w.to_bytes(32, "big") for w in words)


def unpack_words(blob: bytes) -> list[int]:
    """Inverse of :func:`pack_words`."""
    return [int.from_bytes(blob[i : i + 32], "big") for i in range(0, len(blob), 32)]


# ─── event -> row ─────────────────────────────────────────────────────────────

_Mapper = Callable[[dict[str, Any]], tuple[Table, Row]]


def _stake(kind: int, amount: int, **extra: Any) -> Row:
    row: Row = {
        "kind": kind,
        **_wei("amount", amount),
        "staked_hi": None,
        "staked_lo": None,
        "release_epoch": None,
        "bps": None,
    }
    row.update(extra)
    return row


_MAPPERS: dict[str, _Mapper] = {
    "EnvironmentRegistered": lambda a: (
        t.env_registered,
        {
            "env_id": a["envId"],
            "owner": a["owner"],
            "spec_cid": a["specCid"],
            **_wei("bond", a["bond"]),
        },
    ),
    "VersionPublished": lambda a: (
        t.env_versions,
        {"env_id": a["envId"], "version": a["version"], "spec_cid": a["specCid"]},
    ),
    "EnvironmentTransferred": lambda a: (
        t.env_transfers,
        {"env_id": a["envId"], "from_address": a["from"], "to_address": a["to"]},
    ),
    "EnvironmentDeactivated": lambda a: (
        t.env_deactivations,
        {"env_id": a["envId"], "bond_unlocks_at": a["bondUnlocksAt"]},
    ),
    "BondWithdrawn": lambda a: (
        t.env_bond_withdrawals,
        {"env_id": a["envId"], "owner": a["owner"], **_wei("amount", a["amount"])},
    ),
    "ModelRegistered": lambda a: (
        t.models,
        {
            "model_id": a["modelId"],
            "parent_id": a["parentId"],
            "registrar": a["registrar"],
            "checkpoint_cid": a["checkpointCid"],
            "dataset_cid": a["datasetCid"],
            "metrics_digest": a["metricsDigest"],
        },
    ),
    "Staked": lambda a: (
        t.stake_events,
        {
            "validator": a["validator"],
            **_stake(StakeKind.STAKED, a["amount"], **_wei("staked", a["staked"])),
        },
    ),
    "UnbondRequested": lambda a: (
        t.stake_events,
        {
            "validator": a["validator"],
            **_stake(StakeKind.UNBOND, a["amount"], release_epoch=a["releaseEpoch"]),
        },
    ),
    "Withdrawn": lambda a: (
        t.stake_events,
        {"validator": a["validator"], **_stake(StakeKind.WITHDRAWN, a["amount"])},
    ),
    "Slashed": lambda a: (
        t.stake_events,
        {"validator": a["validator"], **_stake(StakeKind.SLASHED, a["amount"], bps=a["bps"])},
    ),
    "SeedSet": lambda a: (
        t.seeds,
        {"epoch": a["epoch"], "seed": a["seed"], "source_block": a["sourceBlock"]},
    ),
    "Committed": lambda a: (
        t.commits,
        {
            "epoch": a["epoch"],
            "validator": a["validator"],
            "commitment": a["commitment"],
            **_wei("stake", a["stake"]),
        },
    ),
    "Revealed": lambda a: (
        t.reveals,
        {
            "epoch": a["epoch"],
            "validator": a["validator"],
            "lanes": pack_words(a["packedLanes"]),
            "env_weights": pack_words(a["envWeights"]),
        },
    ),
    "EnvironmentWeighted": lambda a: (
        t.env_weights,
        {"epoch": a["epoch"], "env_id": a["envId"], "weight": _bounded(a["weight"], "weight")},
    ),
    "MinerSlashed": lambda a: (
        t.miner_slashes,
        {
            "epoch": a["epoch"],
            "idx": a["index"],
            "miner": a["miner"],
            **_wei("amount", a["amount"]),
        },
    ),
    "EpochSettled": lambda a: (
        t.settlements,
        {
            "epoch": a["epoch"],
            **_wei("minted", a["minted"]),
            **_wei("carried_in", a["carriedIn"]),
            **_wei("miner_pot", a["minerPot"]),
            **_wei("validator_pot", a["validatorPot"]),
            **_wei("environment_pot", a["environmentPot"]),
        },
    ),
    "RewardCredited": lambda a: (
        t.rewards,
        {
            "epoch": a["epoch"],
            "account": a["account"],
            "role": _role(a["role"]),
            "subject": a["subject"],
            **_wei("amount", a["amount"]),
        },
    ),
    "ValidatorSlashed": lambda a: (
        t.slashes,
        {"epoch": a["epoch"], "validator": a["validator"], **_wei("amount", a["amount"])},
    ),
    "EpochFinalized": lambda a: (
        t.finalizations,
        {"epoch": a["epoch"], **_wei("carry_out", a["carryOut"])},
    ),
    "RewardClaimed": lambda a: (t.claims, {"account": a["account"], **_wei("amount", a["amount"])}),
}


def _role(value: int) -> int:
    if value >= len(Role.NAMES):
        raise LedgerDecodeError(
            f"RewardCredited has role {value}, which the protocol does not have"
        )
    return value


def _bounded(value: int, what: str) -> int:
    """Ids, epochs and counts are stored in signed 64-bit columns."""
    if value >= 1 << 63:
        raise LedgerDecodeError(f"{what} = {value} is larger than the ledger stores")
    return value


def event_rows(
    logs: Iterable[Log], lookup_batches: Callable[[int, Sequence[int]], Mapping[int, BatchInfo]]
) -> ChunkRows:
    """The rows of ``logs`` (in chain order). ``lookup_batches(epoch, indices)`` finds batches
    indexed in earlier chunks, for the score rows that copy their miner, environment and size."""
    out = ChunkRows()
    pending: dict[int, dict[int, BatchInfo]] = {}  # batches seen in this chunk
    scored: list[Row] = []
    for log in logs:
        out.blocks[log.block] = log.block_hash
        where = {"block": log.block, "log_index": log.log_index}
        a = log.args
        for key in ("epoch", "envId", "modelId", "index", "version", "traceCount", "sequence"):
            if key in a:
                _bounded(a[key], f"{log.name}.{key}")
        if log.name == "BatchSubmitted":
            info = BatchInfo(a["miner"], a["envId"], a["traceCount"])
            pending.setdefault(a["epoch"], {})[a["index"]] = info
            out.add(
                t.batches,
                {
                    **where,
                    "epoch": a["epoch"],
                    "idx": a["index"],
                    "miner": a["miner"],
                    "env_id": a["envId"],
                    "env_version": a["envVersion"],
                    "sequence": a["sequence"],
                    "trace_count": a["traceCount"],
                    "model_id": a["modelId"],
                    "cid": a["cid"],
                    "tx_hash": log.tx_hash,
                },
            )
        elif log.name == "BatchScored":
            scored.append(
                {
                    **where,
                    "epoch": a["epoch"],
                    "idx": a["index"],
                    "consensus": _bounded(a["score"], "score"),
                    "digest": _bounded(a["digest"], "digest"),
                    "weight": _bounded(a["weight"], "weight"),
                }
            )
        else:
            table, row = _MAPPERS[log.name](a)
            out.add(table, {**where, **row})
            if log.name == "EpochFinalized":
                out.finalized.append((a["epoch"], log.block))
    for row in scored:
        batch = pending.get(row["epoch"], {}).get(row["idx"])
        if batch is None:
            missing = [
                r["idx"]
                for r in scored
                if r["epoch"] == row["epoch"] and r["idx"] not in pending.get(row["epoch"], {})
            ]
            found = lookup_batches(row["epoch"], missing)
            pending.setdefault(row["epoch"], {}).update(found)
            batch = found.get(row["idx"])
        if batch is None:
            raise LedgerDecodeError(
                f"batch {row['idx']} of epoch {row['epoch']} was scored but never submitted "
                "in the indexed history: re-index from the deployment block (`ledger sync --from`)"
            )
        row.update(miner=batch.miner, env_id=batch.env_id, trace_count=batch.trace_count)
        out.add(t.batch_scores, row)
    return out


# ─── rows -> aggregate deltas ─────────────────────────────────────────────────

# The value columns of each aggregate table (everything else is its key).
AGGREGATE_VALUES: dict[Table, tuple[str, ...]] = {
    t.reward_sums: ("amount_hi", "amount_lo", "n"),
    t.account_sums: ("amount_hi", "amount_lo", "n"),
    t.env_sums: ("batches", "traces", "weight", "royalty_hi", "royalty_lo", "n"),
    t.miner_sums: ("batches", "traces", "weight", "scored_traces", "fraud", "n"),
    t.model_sums: ("batches", "traces", "n"),
}
Deltas = dict[Table, dict[tuple[Any, ...], dict[str, int]]]
_KEYS: dict[Table, tuple[str, ...]] = {
    t.reward_sums: ("role", "epoch", "account"),
    t.account_sums: ("kind", "account"),
    t.env_sums: ("env_id", "epoch"),
    t.miner_sums: ("miner", "epoch"),
    t.model_sums: ("model_id",),
}


def _bump(deltas: Deltas, table: Table, key: tuple[Any, ...], sign: int, **values: int) -> None:
    slot = deltas.setdefault(table, {}).setdefault(key, dict.fromkeys(AGGREGATE_VALUES[table], 0))
    slot["n"] += sign
    for name, value in values.items():
        slot[name] += sign * value


def aggregate_deltas(rows: Mapping[Table, Iterable[Row]], sign: int, deltas: Deltas) -> None:
    """Add ``sign`` times the contribution of event ``rows`` to ``deltas``."""
    for row in rows.get(t.batches, ()):
        traces = row["trace_count"]
        _bump(deltas, t.env_sums, (row["env_id"], row["epoch"]), sign, batches=1, traces=traces)
        _bump(deltas, t.model_sums, (row["model_id"],), sign, batches=1, traces=traces)
        _bump(deltas, t.miner_sums, (row["miner"], row["epoch"]), sign, batches=1, traces=traces)
    for row in rows.get(t.batch_scores, ()):
        _bump(deltas, t.env_sums, (row["env_id"], row["epoch"]), sign, weight=row["weight"])
        _bump(deltas, t.miner_sums, (row["miner"], row["epoch"]), sign, weight=row["weight"],
              scored_traces=row["trace_count"], fraud=int(row["consensus"] == FRAUD))  # fmt: skip
    for row in rows.get(t.rewards, ()):
        amount = {"amount_hi": row["amount_hi"], "amount_lo": row["amount_lo"]}
        _bump(deltas, t.reward_sums, (row["role"], row["epoch"], row["account"]), sign, **amount)
        _bump(deltas, t.account_sums, (row["role"], row["account"]), sign, **amount)
        if row["role"] == Role.ENVIRONMENT:
            _bump(
                deltas,
                t.env_sums,
                (row["subject"], row["epoch"]),
                sign,
                royalty_hi=row["amount_hi"],
                royalty_lo=row["amount_lo"],
            )
    for table, kind, who in (
        (t.claims, Kind.CLAIMED, "account"),
        (t.slashes, Kind.SLASHED, "validator"),
        (t.miner_slashes, Kind.MINER_SLASHED, "miner"),
    ):
        for row in rows.get(table, ()):
            _bump(
                deltas,
                t.account_sums,
                (kind, row[who]),
                sign,
                amount_hi=row["amount_hi"],
                amount_lo=row["amount_lo"],
            )


def delta_rows(deltas: Deltas) -> dict[Table, list[Row]]:
    """``deltas`` as rows to upsert (key columns + increments)."""
    return {
        table: [
            dict(zip(_KEYS[table], key, strict=True)) | values for key, values in entries.items()
        ]
        for table, entries in deltas.items()
    }


# ─── derived: validators' credit ──────────────────────────────────────────────


def batch_credit(score: int, weight: int, trace_count: int) -> int:
    """What revealing a batch's consensus lane exactly earns a validator: its weight, or
    ``traceCount * 10,000`` for a FRAUD batch."""
    return trace_count * SCORE_SCALE if score == FRAUD else weight


def validator_epoch_rows(
    epoch: int,
    block: int,
    commits: Iterable[Row],
    reveals: Mapping[str, bytes],
    scores: Iterable[tuple[int, int, int, int, int]],
) -> list[Row]:
    """One row per committed validator of ``epoch``: stake, revealed, credit and the most it
    could have earned.

    ``scores`` are ``(batch index, consensus score, digest, weight, trace count)`` of every
    scored batch; a validator's credit sums :func:`batch_credit` over the batches whose
    consensus lane it revealed exactly, as the contract accumulates it.
    """
    scored = sorted(scores)
    count = scored[-1][0] + 1 if scored else 0
    possible = sum(batch_credit(s, w, n) for _, s, _, w, n in scored)
    rows = []
    for c in commits:
        blob = reveals.get(c["validator"])
        agreement = 0
        if blob is not None and scored:
            words = unpack_words(blob)
            if len(words) * LANES_PER_WORD < count:
                raise LedgerDecodeError(
                    f"the reveal of {c['validator']} for epoch {epoch} has {len(words)} words, "
                    f"too few for {count} batches"
                )
            mine = unpack_lanes(words, count)
            agreement = sum(
                batch_credit(s, w, n) for i, s, d, w, n in scored if mine[i] == (s << 7 | d)
            )
        rows.append(
            {
                "epoch": epoch,
                "validator": c["validator"],
                "block": block,
                "stake_hi": c["stake_hi"],
                "stake_lo": c["stake_lo"],
                "revealed": blob is not None,
                "agreement": agreement,
                "possible": possible if blob is not None else 0,
            }
        )
    return rows
