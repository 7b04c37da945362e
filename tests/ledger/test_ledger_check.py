"""``ledger check`` proves the ledger equal to the chain, and catches a corrupted row."""

from __future__ import annotations

import json
from pathlib import Path

from ledger_helpers import History, invoke, run
from sqlalchemy import create_engine, delete, update

from worldgym.ledger.check import check_ledger
from worldgym.ledger.indexer import Indexer
from worldgym.ledger.schema import Kind, Role, t


def test_check_passes_on_an_honest_ledger(history: History, indexer: Indexer) -> None:
    indexer.sync()
    report = check_ledger(indexer.store, history.chain.w3, history.chain.deployment)
    assert report.ok, report.mismatches
    assert report.accounts == 7  # 2 miners, 2 owners, 3 validators
    assert report.block == history.chain.block_number()
    assert report.comparisons > 50


def test_check_catches_a_corrupted_event_row(history: History, indexer: Indexer) -> None:
    indexer.sync()
    miner_b = history.miner_b.lower()
    with indexer.store.engine.begin() as conn:
        conn.execute(
            update(t.rewards)
            .where(t.rewards.c.account == miner_b, t.rewards.c.epoch == history.epochs[1])
            .values(amount_lo=t.rewards.c.amount_lo + 1)
        )
    report = check_ledger(indexer.store, history.chain.w3, history.chain.deployment)
    found = {(m.what, m.subject) for m in report.mismatches}
    assert ("claimable", history.miner_b) in found  # against the chain
    assert ("total claimable", "all accounts") in found
    assert ("account_sums.amount", f"{Role.MINER}/{miner_b}") in found  # against itself
    claimable = next(m for m in report.mismatches if m.what == "claimable")
    assert claimable.ledger == claimable.source + 1


def test_check_catches_a_corrupted_aggregate_or_a_missing_claim(
    history: History, indexer: Indexer
) -> None:
    indexer.sync()
    owner1 = history.owner1.lower()
    with indexer.store.engine.begin() as conn:
        conn.execute(
            update(t.env_sums)
            .where(t.env_sums.c.env_id == 2)
            .values(traces=t.env_sums.c.traces + 1)
        )
        conn.execute(delete(t.claims).where(t.claims.c.account == owner1))
    report = check_ledger(indexer.store, history.chain.w3, history.chain.deployment)
    found = {m.what: m for m in report.mismatches}
    assert found["env_sums.traces"].ledger == found["env_sums.traces"].source + 1
    assert found["claimed"].subject == history.owner1
    assert (found["claimed"].ledger, found["claimed"].source) == (
        0,
        history.claimed[history.owner1],
    )
    assert f"{Kind.CLAIMED}/{owner1}" in {m.subject for m in report.mismatches}


def test_ledger_check_command_exits_1_on_a_mismatch(history: History, cli_home: Path) -> None:
    code, out = run("ledger", "check")
    assert code == 0, out
    assert "ledger matches the chain at block" in out
    (db,) = (cli_home / "ledger").glob("*.sqlite")
    with create_engine(f"sqlite:///{db}").begin() as conn:
        conn.execute(
            update(t.claims)
            .where(t.claims.c.account == history.val_a.lower())
            .values(amount_hi=t.claims.c.amount_hi + 7)
        )
    code, out = run("ledger", "check", "--no-sync")
    assert code == 1
    assert "4 mismatches at block" in out
    assert "error: the ledger disagrees with the chain on 4 values" in out
    result = invoke("ledger", "check", "--no-sync", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    claimed = next(m for m in report["mismatches"] if m["what"] == "claimed")
    assert claimed["subject"] == history.val_a
    assert claimed["ledger"] - claimed["source"] == 7 << 32
