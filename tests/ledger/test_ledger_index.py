"""Indexing a devnet history: exact rows, resumable, idempotent, chunk-size independent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledger_helpers import History, open_indexer
from sqlalchemy import select

from worldgym.deploy.devchain import raw_cid
from worldgym.ledger.indexer import Indexer
from worldgym.ledger.queries import Ledger
from worldgym.ledger.schema import AGGREGATE_TABLES, DERIVED_TABLES, EVENT_TABLES, Kind, Role, t
from worldgym.ledger.wei import join_wei


def _rows(ix: Indexer, table: Any, *columns: str) -> list[tuple[Any, ...]]:
    order = [table.c.block, table.c.log_index] if "log_index" in table.c else list(table.c)
    with ix.store.engine.connect() as conn:
        return [tuple(r._asdict()[c] for c in columns)
                for r in conn.execute(select(table).order_by(*order))]  # fmt: skip


def _amounts(ix: Indexer, table: Any, *columns: str) -> list[tuple[Any, ...]]:
    """Rows of ``columns`` plus the joined ``amount``."""
    with ix.store.engine.connect() as conn:
        return [
            (*(r._asdict()[c] for c in columns), int(join_wei(r.amount_hi, r.amount_lo)))
            for r in conn.execute(select(table).order_by(table.c.block, table.c.log_index))
        ]


def dump(ix: Indexer) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted (block anchors aside: they depend on the chunking)."""
    with ix.store.engine.connect() as conn:
        return {
            table.name: sorted(tuple(r) for r in conn.execute(select(table)))
            for table in (*EVENT_TABLES, *DERIVED_TABLES, *AGGREGATE_TABLES)
        }


def test_indexing_a_devnet_history_gives_the_exact_rows(history: History, indexer: Indexer) -> None:
    h = history
    report = indexer.sync()
    assert report.end == h.chain.block_number()
    assert report.reorg is None
    e0, e1 = h.epochs
    low = str.lower

    assert _rows(indexer, t.batches, "epoch", "idx", "miner", "env_id", "env_version", "sequence",
                 "trace_count", "model_id") == [
        (e, i, low(m), env, v, s, n, model) for e, i, m, env, v, s, n, model in h.batches
    ]  # fmt: skip
    cids = [bytes(c) for (c,) in _rows(indexer, t.batches, "cid")]
    assert cids == [raw_cid(f"b0-{i}".encode()) for i in range(3)] + [raw_cid(b"b1-0")]
    assert _rows(indexer, t.batch_scores, "epoch", "idx", "consensus", "digest") == [
        (e, i, c, d)
        for e in (e0, e1)
        for i, (c, d) in enumerate(zip(h.consensus[e], h.digests[e], strict=True))
    ]
    assert _rows(indexer, t.env_weights, "epoch", "env_id", "weight") == [
        (e, env, w) for e in (e0, e1) for env, w in h.env_weights[e].items()
    ]
    assert _amounts(indexer, t.miner_slashes, "epoch", "idx", "miner") == [
        (e, i, low(m), amount) for (e, i), (m, amount) in h.miner_slashes.items()
    ]
    assert len(h.miner_slashes) == 1
    assert _amounts(indexer, t.rewards, "epoch", "account", "role", "subject") == [
        (r.epoch, low(r.account), r.role, r.subject, r.amount) for r in h.rewards
    ]
    pots = ("minted", "carried_in", "miner_pot", "validator_pot", "environment_pot")
    with indexer.store.engine.connect() as conn:
        settled = {
            r.epoch: tuple(
                int(join_wei(getattr(r, f"{k}_hi"), getattr(r, f"{k}_lo"))) for k in pots
            )
            for r in conn.execute(select(t.settlements))
        }
        finals = conn.execute(select(t.finalizations).order_by(t.finalizations.c.epoch))
        carry = [int(join_wei(r.carry_out_hi, r.carry_out_lo)) for r in finals]
    assert settled == h.settlements
    assert carry[-1] == h.carry == h.chain.gym.functions.carry().call()
    assert _amounts(indexer, t.slashes, "epoch", "validator") == [
        (e0, low(h.val_lazy), h.slashed[h.val_lazy])
    ]
    assert _amounts(indexer, t.claims, "account") == [(low(a), n) for a, n in h.claimed.items()]
    assert _rows(indexer, t.commits, "epoch", "validator") == [
        (e, low(v)) for e in (e0, e1) for v in h.lanes[e]
    ]
    assert _rows(indexer, t.env_versions, "env_id", "version") == [(1, 1), (1, 2), (2, 1)]
    assert _rows(indexer, t.models, "model_id", "parent_id") == [(1, 0), (2, 1)]

    # the credit is in no event: derived at finalization, equal to the contract's record
    for epoch, validator, agreement in _rows(
        indexer, t.validator_epochs, "epoch", "validator", "agreement"
    ):
        record = h.chain.gym.functions.commitmentRecord(
            epoch, h.chain.w3.to_checksum_address(validator)
        ).call()
        assert agreement == record[3]

    # aggregates: credits by role, claims and slashes per account
    with indexer.store.engine.connect() as conn:
        sums = {(r.kind, r.account): int(join_wei(r.amount_hi, r.amount_lo))
                for r in conn.execute(select(t.account_sums))}  # fmt: skip
    for account in {r.account for r in h.rewards}:
        for role in (Role.MINER, Role.VALIDATOR, Role.ENVIRONMENT):
            want = sum(r.amount for r in h.rewards if r.account == account and r.role == role)
            assert sums.get((role, low(account)), 0) == want
    assert {a: n for (k, a), n in sums.items() if k == Kind.CLAIMED} == {
        low(a): n for a, n in h.claimed.items()
    }
    assert {a: n for (k, a), n in sums.items() if k == Kind.MINER_SLASHED} == {
        low(m): n for m, n in h.miner_slashes.values()
    }

    ledger = Ledger(indexer.store)
    val_b = ledger.address(h.val_b)
    assert val_b.validator is not None
    assert (val_b.validator.stake, val_b.validator.unbonding) == (800 * 10**18, 200 * 10**18)
    miner_b = ledger.address(h.miner_b)
    assert miner_b.credited == h.credited(h.miner_b) == miner_b.claimable
    assert [(m.epoch, m.batches, m.traces) for m in miner_b.miner] == [(e0, 1, 20), (e1, 1, 8)]
    # the miner whose batch was flagged: its slash, replayed stake and flagged batch
    ((_, slash),) = h.miner_slashes.items()
    miner_a = ledger.address(h.miner_a)
    assert miner_a.miner_slashed == slash[1]
    assert [(m.epoch, m.fraud, m.slashed) for m in miner_a.miner] == [(e0, 1, slash[1])]
    assert miner_a.validator is not None  # it staked its bond
    assert miner_a.validator.stake == h.chain.stake_of(h.miner_a)
    flagged = [b for b in ledger.epoch(e0).batches if b.fraud]
    assert [(b.index, b.miner_slashed, b.miner_reward) for b in flagged] == [(2, slash[1], 0)]
    assert ledger.epoch(e0).env_weights == h.env_weights[e0]
    top = ledger.top("miner")
    assert [(r.subject, r.reward) for r in top.rows] == sorted(
        ((m, h.credited(m)) for m in (h.miner_a, h.miner_b)), key=lambda x: -x[1]
    )


def test_sync_is_resumable_idempotent_and_chunk_independent(
    history: History, indexer: Indexer, tmp_path: Path
) -> None:
    head = history.chain.block_number()
    whole = indexer.sync()
    assert whole.events > 40
    again = indexer.sync()
    assert (again.events, again.blocks) == (0, 0)

    pieces = open_indexer(history.chain, tmp_path / "pieces.sqlite", chunk_blocks=3)
    stops = [*range(10, head, 17), head]
    events = sum(pieces.sync(to_block=stop).events for stop in stops)
    assert events == whole.events
    assert dump(pieces) == dump(indexer)

    redo = pieces.sync(from_block=history.chain.deployment.deploy_block + 20)
    assert redo.reorg is not None
    assert redo.events > 0
    assert dump(pieces) == dump(indexer)


def test_the_ledger_stays_the_confirmation_depth_behind(history: History, tmp_path: Path) -> None:
    ix = open_indexer(history.chain, tmp_path / "deep.sqlite", confirmations=5)
    report = ix.sync()
    assert report.end == history.chain.block_number() - 5
    cursor = ix.store.cursor()
    assert cursor is not None
    assert cursor.block == report.end
