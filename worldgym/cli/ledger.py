"""``worldgym ledger sync | status | epochs | epoch | address | env | envs | top | models | check``.

``ledger sync --follow`` is the long-running follower: it indexes new blocks every few
seconds and waits out an unreachable node with backoff and a status line.

Queries index new blocks first (``--no-sync`` answers from what is indexed; an
unreachable node is a warning, not an error) and print rich tables, or JSON
with ``--json`` (amounts in wei as decimal strings). Progress and warnings go
to stderr, so ``--json`` output is clean.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from worldgym.chain.errors import ChainError
from worldgym.cli.options import JsonOpt
from worldgym.cli.output import print_json
from worldgym.client.session import Session
from worldgym.client.supervise import Supervisor
from worldgym.client.wallet import account_address
from worldgym.ledger.check import check_ledger
from worldgym.ledger.common import parse_epochs
from worldgym.ledger.context import LedgerContext
from worldgym.ledger.errors import LedgerMismatchError
from worldgym.ledger.indexer import SyncReport
from worldgym.ledger.metrics import metrics_resolver
from worldgym.ledger.render import (
    render_address,
    render_check,
    render_env,
    render_envs,
    render_epoch,
    render_epochs,
    render_models,
    render_status,
    render_sync,
    render_top,
)
from worldgym.ledger.reports import to_jsonable
from worldgym.ledger.wei import Wei

__all__ = ["DbOpt", "app"]

app = typer.Typer(
    name="ledger",
    help="The contribution ledger: who contributed what, and who earned what.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

_out = Console(highlight=False, soft_wrap=True, emoji=False)
_err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
T = TypeVar("T")

DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="database URL (default: [ledger] url, else SQLite in the data dir)"),
]
SyncOpt = Annotated[
    bool,
    typer.Option("--sync/--no-sync", help="index new blocks first, or answer from what is indexed"),
]


def _context(ctx: typer.Context, db: str | None) -> LedgerContext:
    return LedgerContext(ctx.find_object(Session) or Session(), db)


@dataclass(frozen=True)
class _Flags:
    """The options every query takes."""

    db: str | None
    sync: bool
    as_json: bool


def _answer(
    ctx: typer.Context,
    flags: _Flags,
    query: Callable[[LedgerContext], T],
    render: Callable[[T, Console], None],
) -> None:
    """Sync if asked, run ``query``, print the result as a table or JSON."""
    lc = _context(ctx, flags.db)
    if flags.sync:
        lc.try_sync(_err, _err)
    result = query(lc)
    if flags.as_json:
        print_json(to_jsonable(result))
    else:
        render(result, _out)


@app.command()
def sync(
    ctx: typer.Context,
    *,
    db: DbOpt = None,
    from_block: Annotated[
        int | None, typer.Option("--from", min=0, help="re-index from this block (undone first)")
    ] = None,
    to_block: Annotated[int | None, typer.Option("--to", min=0, help="stop at this block")] = None,
    confirmations: Annotated[
        int | None, typer.Option("--confirmations", min=0, help="stay this many blocks behind")
    ] = None,
    chunk: Annotated[int | None, typer.Option("--chunk", min=1, help="blocks per request")] = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", help="keep indexing new blocks until Ctrl-C (outages are waited out)"
        ),
    ] = False,
    every: Annotated[
        float, typer.Option("--every", min=0.5, help="seconds between syncs with --follow")
    ] = 5.0,
    as_json: JsonOpt = False,
) -> None:
    """Index the contracts' events up to the head (less the confirmation depth)."""
    lc = _context(ctx, db)

    def once(start: int | None) -> SyncReport:
        return lc.sync(
            None if follow else _err,
            confirmations=confirmations,
            chunk=chunk,
            from_block=start,
            to_block=to_block,
        )

    def show(report: SyncReport) -> None:
        if as_json:
            line = json.dumps({**dataclasses.asdict(report), "blocks": report.blocks})
            typer.echo(line if follow else json.dumps(json.loads(line), indent=2))
        elif report.blocks or report.reorg or not follow:
            render_sync(report, _out)

    if not follow:
        show(once(from_block))
        return
    supervisor = Supervisor("ledger", _err.print, max_delay_s=30.0)
    _err.print(f"following the chain every {every:g} s; Ctrl-C stops")
    start = from_block
    try:
        while True:
            show(supervisor.call(functools.partial(once, start), "indexing"))
            start = None  # --from applies to the first sync only
            time.sleep(every)
    except KeyboardInterrupt:
        _err.print("stopped; the next sync resumes from the last indexed block")


@app.command()
def status(
    ctx: typer.Context, db: DbOpt = None, sync: SyncOpt = True, as_json: JsonOpt = False
) -> None:
    """Where the ledger stands: indexed block, epoch and phase, totals."""
    _answer(ctx, _Flags(db, sync, as_json), lambda lc: lc.ledger().status(), render_status)


@app.command()
def epochs(
    ctx: typer.Context,
    *,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="how many")] = 20,
    db: DbOpt = None,
    sync: SyncOpt = True,
    as_json: JsonOpt = False,
) -> None:
    """The latest epochs: phase, batches, validators, emission."""
    _answer(ctx, _Flags(db, sync, as_json), lambda lc: lc.ledger().epochs(limit), render_epochs)


@app.command()
def epoch(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(min=0, help="the epoch")],
    db: DbOpt = None,
    sync: SyncOpt = True,
    as_json: JsonOpt = False,
) -> None:
    """An epoch: batches, scores per validator, consensus, emission split."""
    _answer(ctx, _Flags(db, sync, as_json), lambda lc: lc.ledger().epoch(number), render_epoch)


@app.command()
def address(
    ctx: typer.Context,
    addr: Annotated[
        str, typer.Argument(metavar="ADDR", help="the account (0x...) or a wallet name")
    ],
    db: DbOpt = None,
    sync: SyncOpt = True,
    as_json: JsonOpt = False,
) -> None:
    """An address as miner, validator and environment owner: work, rewards, claimable."""
    session = ctx.find_object(Session) or Session()
    addr = account_address(session.settings, addr, "ADDR")

    def query(lc: LedgerContext) -> Any:
        report = lc.ledger().address(addr)
        if not sync:
            return report
        try:
            balance = lc.session.protocol().balance(report.address)
        except ChainError:
            return report
        return dataclasses.replace(report, balance=Wei(balance))

    _answer(ctx, _Flags(db, sync, as_json), query, render_address)


@app.command()
def env(
    ctx: typer.Context,
    env_id: Annotated[int, typer.Argument(metavar="ID", min=1, help="the environment id")],
    db: DbOpt = None,
    sync: SyncOpt = True,
    as_json: JsonOpt = False,
) -> None:
    """An environment: owner, versions, traces and royalties per epoch."""
    _answer(ctx, _Flags(db, sync, as_json), lambda lc: lc.ledger().env(env_id), render_env)


@app.command()
def envs(
    ctx: typer.Context, db: DbOpt = None, sync: SyncOpt = True, as_json: JsonOpt = False
) -> None:
    """Every environment with its totals."""
    _answer(ctx, _Flags(db, sync, as_json), lambda lc: lc.ledger().envs(), render_envs)


@app.command()
def top(
    ctx: typer.Context,
    *,
    role: Annotated[str, typer.Option("--role", help="miner, validator or env")] = "miner",
    epochs: Annotated[
        str | None, typer.Option("--epochs", help="A:B, inclusive (default: all)")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1_000)] = 20,
    db: DbOpt = None,
    sync: SyncOpt = True,
    as_json: JsonOpt = False,
) -> None:
    """The leaderboard of a role, by rewards earned."""
    span = parse_epochs(epochs)
    _answer(
        ctx,
        _Flags(db, sync, as_json),
        lambda lc: lc.ledger().top(role, epochs=span, limit=limit),
        render_top,
    )


@app.command()
def models(
    ctx: typer.Context, db: DbOpt = None, sync: SyncOpt = True, as_json: JsonOpt = False
) -> None:
    """The model lineage, with each model's use and its metrics where they can be found."""

    def query(lc: LedgerContext) -> Any:
        return lc.ledger().models(metrics_resolver(lc.refinery_dir, lc.session.store()))

    _answer(ctx, _Flags(db, sync, as_json), query, render_models)


@app.command()
def check(
    ctx: typer.Context,
    db: DbOpt = None,
    sync: SyncOpt = True,
    recent: Annotated[
        int, typer.Option("--epochs", min=0, help="finalized epochs whose scores are compared")
    ] = 16,
    as_json: JsonOpt = False,
) -> None:
    """Prove the ledger equal to the contracts, to the wei (exit 1 on any mismatch)."""
    lc = _context(ctx, db)
    if sync:
        lc.sync(_err)
    report = check_ledger(lc.store, lc.session.web3(), lc.deployment, recent_epochs=recent)
    if as_json:
        print_json({**to_jsonable(report), "ok": report.ok})
    else:
        render_check(report, _out)
    if not report.ok:
        raise LedgerMismatchError(
            f"the ledger disagrees with the chain on {len(report.mismatches)} values at block "
            f"{report.block}: re-index with `worldgym ledger sync --from 0`"
        )
