"""Reorgs: blocks the chain dropped (anvil evm_snapshot / evm_revert) are undone in the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ledger_helpers import History, open_indexer
from sqlalchemy import select
from test_ledger_index import dump

from worldgym.deploy.devchain import raw_cid
from worldgym.ledger.check import check_ledger
from worldgym.ledger.indexer import Indexer
from worldgym.ledger.queries import Ledger
from worldgym.ledger.schema import t


def _rpc(h: History, method: str, *params: Any) -> Any:
    response = h.chain.w3.provider.make_request(method, list(params))
    return response["result"]


def _claimers(ix: Indexer) -> set[str]:
    with ix.store.engine.connect() as conn:
        return {r.account for r in conn.execute(select(t.claims))}


@pytest.mark.parametrize("extra_blocks", [0, 12], ids=["shorter-chain", "longer-chain"])
def test_a_reverted_branch_is_undone_and_the_new_one_indexed(
    history: History, indexer: Indexer, tmp_path: Path, extra_blocks: int
) -> None:
    h, p = history, history.chain
    indexer.sync()
    snapshot = _rpc(h, "evm_snapshot")

    # the branch that will be dropped: a claim, a new environment, a batch
    p.send(h.miner_b, p.gym, "claim")
    p.register_environment_as(h.owner2, raw_cid(b"env three"))
    p.send(h.miner_b, p.gym, "submitBatch", 1, 2, raw_cid(b"dropped"), 7, 2)  # miner_a: slashed
    dropped_epoch = p.current_epoch()
    p.mine_to(p.block_number() + 3)
    dropped_head = p.block_number()
    indexer.sync()
    assert h.miner_b.lower() in _claimers(indexer)
    assert len(Ledger(indexer.store).envs()) == 3
    assert len(Ledger(indexer.store).epoch(dropped_epoch).batches) == 1

    assert _rpc(h, "evm_revert", snapshot) is True
    # the branch that replaces it: another account claims, more or fewer blocks
    p.send(h.val_b, p.gym, "claim")
    p.mine_to(p.block_number() + extra_blocks)
    assert (p.block_number() > dropped_head) == bool(extra_blocks)

    report = indexer.sync()
    assert report.reorg is not None
    indexed_before, rolled_back_to = report.reorg
    assert indexed_before == dropped_head
    assert rolled_back_to < dropped_head
    assert _claimers(indexer) == {a.lower() for a in (*h.claimed, h.val_b)}
    ledger = Ledger(indexer.store)
    assert len(ledger.envs()) == 2
    assert ledger.address(h.miner_b).claimed == 0
    assert ledger.epoch(dropped_epoch).batches == []

    fresh = open_indexer(p, tmp_path / "fresh.sqlite")
    fresh.sync()
    assert dump(indexer) == dump(fresh)
    assert check_ledger(indexer.store, p.w3, p.deployment).ok
