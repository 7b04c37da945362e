"""``worldgym dashboard``: serve the ledger's dashboard on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import errno
import threading
from typing import Annotated

import typer
from rich.console import Console

from worldgym.cli.ledger import DbOpt
from worldgym.client.session import Session
from worldgym.ledger.context import LedgerContext
from worldgym.ledger.dashboard.server import DashboardServer
from worldgym.ledger.errors import LedgerError
from worldgym.ledger.indexer import Indexer
from worldgym.ledger.metrics import metrics_resolver

__all__ = ["dashboard"]

_out = Console(highlight=False, soft_wrap=True, emoji=False)


def dashboard(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65_535, help="port (default: a free one)")
    ] = 0,
    sync: Annotated[
        bool, typer.Option("--sync/--no-sync", help="keep indexing new blocks while serving")
    ] = True,
    sync_every: Annotated[
        float, typer.Option("--sync-every", min=0.5, help="seconds between syncs")
    ] = 5.0,
    db: DbOpt = None,
) -> None:
    """Serve the ledger's dashboard on 127.0.0.1: epochs, leaderboards, addresses, models."""
    lc = LedgerContext(ctx.find_object(Session) or Session(), db)
    lc.ledger()  # opens (creates) the database now: a bad URL fails before serving
    indexer: list[Indexer] = []
    lock = threading.Lock()

    def run_sync() -> object:
        with lock:
            if not indexer:
                indexer.append(lc.indexer())
            return indexer[0].sync()

    try:
        server = DashboardServer(
            lc.ledger(),
            port=port,
            refinery_dir=lc.refinery_dir,
            sync=run_sync if sync else None,
            sync_every=sync_every,
            metrics=metrics_resolver(lc.refinery_dir, lc.session.store()),
            balance=lambda address: lc.session.protocol().balance(address),
            status=_out.print,
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise LedgerError(
                f"port {port} is in use: pick another --port, or leave it out for a free one"
            ) from None
        raise LedgerError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    _out.print(f"WorldGym dashboard at {server.url} (Ctrl-C to stop)")
    server.serve_forever()
    _out.print("dashboard stopped")
