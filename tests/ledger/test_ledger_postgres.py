"""The ledger on a real PostgreSQL server: the same rows, answers and check as on SQLite.

``[ledger] url = "postgresql+psycopg://..."`` is how an operator runs the
ledger on PostgreSQL. Skipped, with the reason, where PostgreSQL's server
binaries or psycopg are missing (``make sysdeps`` installs the server as root).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ledger_helpers import History, open_indexer
from postgres_server import find_binaries, postgres_server
from sqlalchemy import create_engine, text
from test_ledger_index import dump

from worldgym.ledger.check import check_ledger
from worldgym.ledger.indexer import Indexer
from worldgym.ledger.queries import Ledger
from worldgym.ledger.reports import to_jsonable
from worldgym.ledger.schema import open_engine
from worldgym.ledger.store import LedgerStore

pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'psycopg[binary]')")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    bin_dir = find_binaries()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    with postgres_server(bin_dir) as url:
        yield url


@pytest.fixture
def pg_indexer(server: str, history: History) -> Iterator[Indexer]:
    name = f"ledger_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = open_engine(server.rsplit("/", 1)[0] + f"/{name}")
    try:
        store = LedgerStore(engine)
        yield Indexer(history.chain.w3, history.chain.deployment, store, confirmations=0)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}"'))
        admin.dispose()


def test_postgres_holds_the_same_ledger_as_sqlite(
    history: History, pg_indexer: Indexer, tmp_path: Path
) -> None:
    h = history
    sqlite = open_indexer(h.chain, tmp_path / "ledger.sqlite")
    sqlite.sync()
    pg_indexer.sync()
    assert pg_indexer.store.engine.dialect.name == "postgresql"
    assert dump(pg_indexer) == dump(sqlite)
    again = pg_indexer.sync()  # idempotent: nothing new, nothing applied twice
    assert dump(pg_indexer) == dump(sqlite), again

    pg, lite = Ledger(pg_indexer.store), Ledger(sqlite.store)
    for role in ("miner", "validator", "env"):
        assert to_jsonable(pg.top(role)) == to_jsonable(lite.top(role))
    for who in (h.miner_a, h.val_a, h.owner1):
        assert to_jsonable(pg.address(who)) == to_jsonable(lite.address(who))
    assert to_jsonable(pg.epoch(0)) == to_jsonable(lite.epoch(0))

    report = check_ledger(pg_indexer.store, h.chain.w3, h.chain.deployment)
    assert report.ok, report
    assert report.comparisons > 0
