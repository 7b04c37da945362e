"""The demo's books: the contribution ledger, indexed live, served, proven equal to the chain."""

from __future__ import annotations

import threading
from pathlib import Path

from rich.console import Console
from rich.table import Table

from worldgym.core.amounts import wgt_cell
from worldgym.deploy.demo.network import DemoNetwork
from worldgym.ledger.check import CheckReport, check_ledger
from worldgym.ledger.dashboard.server import DashboardServer
from worldgym.ledger.indexer import Indexer, SyncReport
from worldgym.ledger.metrics import metrics_resolver
from worldgym.ledger.queries import Ledger
from worldgym.ledger.schema import open_engine
from worldgym.ledger.standings import top
from worldgym.ledger.store import LedgerStore

__all__ = ["DemoBooks"]


class DemoBooks:
    """One ledger database at ``path`` for the demo's chain, and its dashboard.

    The dashboard's background sync and the demo's own syncs share one indexer
    behind a lock, so a chunk is never indexed by two threads at once.
    """

    def __init__(self, net: DemoNetwork, path: Path, refinery_dir: Path) -> None:
        self.net = net
        self.store = LedgerStore(open_engine(f"sqlite:///{path}"))
        self.refinery_dir = refinery_dir
        self._indexer = Indexer(net.chain.w3, net.chain.deployment, self.store, confirmations=0)
        self._lock = threading.Lock()
        self.dashboard: DashboardServer | None = None

    def sync(self) -> SyncReport:
        """Index every event up to the head."""
        with self._lock:
            return self._indexer.sync()

    def serve(self, port: int = 0) -> DashboardServer:
        """Start the dashboard on 127.0.0.1 (syncing every 2 s) in background threads."""
        self.dashboard = DashboardServer(
            Ledger(self.store),
            port=port,
            refinery_dir=self.refinery_dir,
            sync=self.sync,
            sync_every=2.0,
            metrics=metrics_resolver(self.refinery_dir, self.net.store),
            balance=self.net.chain.balance,
        ).start()
        return self.dashboard

    def stop(self) -> None:
        """Stop the dashboard (if it runs)."""
        if self.dashboard is not None:
            self.dashboard.stop()
            self.dashboard = None

    def print_and_check(self, console: Console) -> CheckReport:
        """Sync, print the leaderboard of every role, and run ``ledger check``."""
        chain = self.net.chain
        self.sync()
        names = {a.address.lower(): a.name for a in self.net.actors}
        ident = self.store.identity()
        assert ident is not None
        with self.store.engine.connect() as conn:
            for role, unit in (("miner", "traces"), ("validator", "epochs"), ("env", "traces")):
                board = top(conn, ident, role)
                table = Table(title=f"ledger: top {role}s")
                for column in ("rank", "who", "reward (WGT)", unit):
                    table.add_column(column, justify="left" if column == "who" else "right")
                for row in board.rows:
                    who = names.get(str(row.subject).lower(), str(row.subject))
                    if role == "env":
                        who = f"environment {row.subject}"
                    count = row.traces if unit == "traces" else row.epochs
                    table.add_row(
                        str(row.rank),
                        who,
                        wgt_cell(int(row.reward)),
                        f"{count:,}",
                    )
                console.print(table)
        with self._lock:
            report = check_ledger(self.store, chain.w3, chain.deployment)
        verdict = (
            "reconciles with the chain" if report.ok else f"{len(report.mismatches)} mismatches"
        )
        console.print(
            f"ledger check: {report.comparisons} comparisons over {report.accounts} accounts at "
            f"block {report.block}: {verdict}"
        )
        return report
