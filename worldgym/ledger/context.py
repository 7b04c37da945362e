"""What the ``ledger`` and ``dashboard`` commands share: the ledger of the active network.

The database is found from the deployment manifest alone (chain id and WorldGym
address pick the default SQLite file), so queries work with no node running;
only syncing and ``check`` talk to the chain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from worldgym.chain.errors import RpcUnavailableError
from worldgym.chain.manifest import Deployment
from worldgym.client.ledger_settings import LedgerSettings
from worldgym.client.session import Session
from worldgym.ledger.indexer import Indexer, SyncReport
from worldgym.ledger.queries import Ledger
from worldgym.ledger.schema import open_engine
from worldgym.ledger.store import LedgerStore
from worldgym.refinery.runs import refinery_root

__all__ = ["LedgerContext"]


@dataclass
class LedgerContext:
    """The ledger of the session's network; everything is opened on first use."""

    session: Session
    db: str | None = None
    _deployment: Deployment | None = field(default=None, repr=False)
    _store: LedgerStore | None = field(default=None, repr=False)

    @property
    def settings(self) -> LedgerSettings:
        """The ``[ledger]`` section."""
        return self.session.settings.ledger

    @property
    def deployment(self) -> Deployment:
        """The active network's deployment manifest."""
        if self._deployment is None:
            self._deployment = self.session.deployment()
        return self._deployment

    @property
    def url(self) -> str:
        """The database URL: ``--db``, else ``[ledger] url``, else this deployment's SQLite file."""
        d = self.deployment
        return self.db or self.settings.database_url(
            self.session.settings.data_dir, d.chain_id, d.addresses.worldgym
        )

    @property
    def store(self) -> LedgerStore:
        """The ledger database (created if missing)."""
        if self._store is None:
            self._store = LedgerStore(open_engine(self.url))
        return self._store

    @property
    def refinery_dir(self) -> Path:
        """Where the refinery of this deployment leaves its learning curve and round history."""
        if self.settings.refinery_dir is not None:
            return self.settings.refinery_dir
        d = self.deployment
        return refinery_root(self.session.settings.data_dir, d.chain_id, d.addresses.worldgym)

    def ledger(self) -> Ledger:
        """Queries over the database."""
        return Ledger(self.store)

    def indexer(self, *, confirmations: int | None = None, chunk: int | None = None) -> Indexer:
        """An indexer of the active network into the database."""
        d = self.deployment
        return Indexer(
            self.session.web3(),
            d,
            self.store,
            confirmations=self.settings.confirmations_for(d.chain_id)
            if confirmations is None
            else confirmations,
            chunk_blocks=chunk or self.settings.chunk_blocks,
        )

    def sync(
        self,
        console: Console | None,
        *,
        confirmations: int | None = None,
        chunk: int | None = None,
        from_block: int | None = None,
        to_block: int | None = None,
    ) -> SyncReport:
        """Index up to the head, with a progress bar on ``console`` when there is much to do."""
        indexer = self.indexer(confirmations=confirmations, chunk=chunk)
        with _progress(console) as advance:
            return indexer.sync(from_block=from_block, to_block=to_block, on_progress=advance)

    def try_sync(self, console: Console, warn: Console) -> SyncReport | None:
        """Sync, or say on ``warn`` that the node is unreachable and answer from what is indexed."""
        try:
            return self.sync(console)
        except RpcUnavailableError as exc:
            warn.print(f"warning: not synced ({exc}); showing the ledger as indexed")
            return None


@contextmanager
def _progress(console: Console | None) -> Iterator[Callable[[int, int], None] | None]:
    if console is None:
        yield None
        return
    progress = Progress(
        TextColumn("indexing blocks"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = None

    def advance(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            if total < 5_000:  # a few chunks: not worth a bar
                return
            progress.start()
            task = progress.add_task("sync", total=total)
        progress.update(task, completed=done)

    try:
        yield advance
    finally:
        progress.stop()
