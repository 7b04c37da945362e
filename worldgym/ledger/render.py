"""The ledger's reports as rich tables (what the CLI prints without ``--json``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from worldgym.chain.protocol_math import FRAUD
from worldgym.core.amounts import wgt_cell
from worldgym.ledger.check import CheckReport
from worldgym.ledger.indexer import SyncReport
from worldgym.ledger.reports import (
    AddressReport,
    EnvReport,
    EnvSummary,
    EpochReport,
    EpochSummary,
    LedgerStatus,
    ModelRow,
    TopReport,
    ValidatorEpoch,
)

__all__ = [
    "render_address",
    "render_check",
    "render_env",
    "render_envs",
    "render_epoch",
    "render_epochs",
    "render_models",
    "render_status",
    "render_sync",
    "render_top",
]


def _table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    """A table whose columns after the first are right-aligned (numbers)."""
    table = Table(title=title, title_justify="left", title_style="bold")
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i == 0 or name in _LEFT else "right")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


_LEFT = {
    "address",
    "miner",
    "validator",
    "owner",
    "cid",
    "phase",
    "checkpoint",
    "dataset",
    "metrics",
    "what",
    "subject",
    "revealed",
}


def _bps(value: int | None) -> str:
    return "" if value is None else f"{value / 100:.2f}%"


def _score(value: int | None) -> str:
    """A consensus or revealed score: a percentage, or FRAUD."""
    return "FRAUD" if value == FRAUD else _bps(value)


def _validator_table(title: str, first: str, rows: Iterable[ValidatorEpoch]) -> Table:
    """Validator-epochs, keyed by ``first`` (``validator`` or ``epoch``): stake, pay, slash."""
    columns = (first, "stake WGT", "revealed", "agreement", "reward WGT", "slashed WGT")
    return _table(
        title,
        columns,
        [
            (
                getattr(e, first),
                wgt_cell(e.stake),
                "yes" if e.revealed else "no",
                _bps(e.agreement_bps),
                wgt_cell(e.reward),
                wgt_cell(e.slashed),
            )
            for e in rows
        ],
    )


def render_sync(report: SyncReport, console: Console) -> None:
    """One line per sync (and one for an undone reorg)."""
    if report.reorg:
        console.print(
            f"reorg: blocks {report.reorg[1] + 1}..{report.reorg[0]} were no longer on the chain "
            "and were undone"
        )
    if report.blocks:
        console.print(
            f"indexed blocks {report.start}..{report.end} ({report.events:,} events) in "
            f"{report.seconds:.2f}s; head {report.head}"
        )
    else:
        console.print(f"ledger up to date at block {report.end} (head {report.head})")


def render_status(status: LedgerStatus, console: Console) -> None:
    """Where the ledger and the chain stand."""
    rows = [
        ("chain", f"{status.chain_id}, WorldGym at {status.worldgym}"),
        ("indexed", f"block {status.indexed_block} (head seen {status.head_block})"),
        (
            "clock",
            f"{status.phase} (genesis block {status.genesis_block}, "
            f"{status.epoch_length} blocks an epoch)",
        ),
        ("credited", f"{wgt_cell(status.credited)} WGT"),
        ("claimed", f"{wgt_cell(status.claimed)} WGT"),
    ]
    table = Table(show_header=False, box=None)
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)


def render_epochs(epochs: list[EpochSummary], console: Console) -> None:
    """The epochs list."""
    console.print(
        _table(
            "Epochs",
            (
                "epoch",
                "phase",
                "start",
                "batches",
                "traces",
                "validators",
                "minted WGT",
                "credited WGT",
            ),
            [
                (
                    e.epoch,
                    e.phase,
                    e.start_block,
                    e.batches,
                    e.traces,
                    e.validators,
                    wgt_cell(e.minted),
                    wgt_cell(e.credited),
                )
                for e in epochs
            ],
        )
    )


def render_epoch(r: EpochReport, console: Console) -> None:
    """Batches, consensus, each validator's scores and the split of one epoch."""
    w = r.windows
    console.print(
        f"[bold]Epoch {r.epoch}[/]: {r.phase}; submit {w['submit'][0]}..{w['commit'][0] - 1}, "
        f"commit {w['commit'][0]}.., reveal {w['reveal'][0]}.., finalize {w['finalize'][0]}..; "
        f"seed {r.seed or 'not set'}"
    )
    shown = r.validators[:6]
    head = ["batch", "miner", "env", "traces", "model", "consensus"]
    head += [f"{v.validator[:8]}…" for v in shown] + ["miner WGT", "royalty WGT", "slashed WGT"]
    rows = []
    for b in r.batches:
        scores = [_revealed(v, b.index) for v in shown]
        rows.append(
            [
                b.index,
                b.miner,
                f"{b.env_id} v{b.env_version}",
                b.traces,
                b.model_id,
                _score(b.consensus),
                *scores,
                wgt_cell(b.miner_reward),
                wgt_cell(b.royalty),
                wgt_cell(b.miner_slashed) if b.miner_slashed else "",
            ]
        )
    console.print(
        _table("Batches (scores per validator; * = its lane is the consensus)", head, rows)
    )
    if r.env_weights:
        console.print(
            _table(
                "Environment weights (stake-weighted median)",
                ("env", "weight"),
                [(env, _bps(w)) for env, w in r.env_weights.items()],
            )
        )
    console.print(_validator_table("Validators", "validator", r.validators))
    s = r.settlement
    if s is None:
        console.print("not settled yet")
        return
    split = [
        ("minted", s.minted),
        ("carried in", s.carried_in),
        ("miner pot", s.miner_pot),
        ("validator pot", s.validator_pot),
        ("environment pot", s.environment_pot),
    ]
    split += [(f"credited to {role}s", amount) for role, amount in r.rewards.items()]
    if r.miner_slashed:
        split.append(("miners slashed (FRAUD)", r.miner_slashed))
    if s.carry_out is not None:
        split.append(("carry out", s.carry_out))
    console.print(_table("Emission split", ("", "WGT"), [(k, wgt_cell(v)) for k, v in split]))


def _revealed(v: ValidatorEpoch, index: int) -> str:
    """A validator's score for a batch, starred when its whole lane is the consensus."""
    if not v.scores or index >= len(v.scores):
        return "-"
    star = "*" if v.matches and v.matches[index] else ""
    return _score(v.scores[index]) + star


def render_address(r: AddressReport, console: Console) -> None:
    """An address in every role it played."""
    console.print(f"[bold]{r.address}[/]")
    summary = [("credited", r.credited), ("claimed", r.claimed), ("claimable", r.claimable)]
    summary += [(f"  as {role}", amount) for role, amount in r.by_role.items() if amount]
    if r.slashed:
        summary.append(("slashed as validator", r.slashed))
    if r.miner_slashed:
        summary.append(("slashed as miner", r.miner_slashed))
    if r.balance is not None:
        summary.append(("wallet balance", r.balance))
    console.print(_table("Balances", ("", "WGT"), [(k, wgt_cell(v)) for k, v in summary]))
    if r.miner:
        console.print(
            _table(
                "As miner",
                ("epoch", "batches", "traces", "consensus", "FRAUD", "reward WGT", "slashed WGT"),
                [
                    (
                        m.epoch,
                        m.batches,
                        m.traces,
                        _bps(m.consensus_bps),
                        m.fraud or "",
                        wgt_cell(m.reward),
                        wgt_cell(m.slashed) if m.slashed else "",
                    )
                    for m in r.miner
                ],
            )
        )
    if r.validator:
        v = r.validator
        console.print(
            f"stake {wgt_cell(v.stake)} WGT, unbonding {wgt_cell(v.unbonding)} WGT"
            + (f" (released at epoch {v.release_epoch})" if v.release_epoch else "")
        )
        console.print(_validator_table("As validator", "epoch", v.epochs))
    if r.royalties:
        console.print(
            _table(
                "As environment owner",
                ("env", "payments", "royalty WGT", "owner now"),
                [
                    (x.env_id, x.payments, wgt_cell(x.royalty), "yes" if x.owner_now else "no")
                    for x in r.royalties
                ],
            )
        )
    if not (r.miner or r.validator or r.royalties or r.credited):
        console.print("no activity in the ledger for this address")


def render_envs(envs: list[EnvSummary], console: Console) -> None:
    """The environments list."""
    console.print(
        _table(
            "Environments",
            ("env", "owner", "versions", "active", "batches", "traces", "royalty WGT"),
            [
                (
                    e.env_id,
                    e.owner,
                    e.versions,
                    "yes" if e.active else "no",
                    e.batches,
                    e.traces,
                    wgt_cell(e.royalty),
                )
                for e in envs
            ],
        )
    )


def render_env(r: EnvReport, console: Console) -> None:
    """One environment."""
    state = "active" if r.active else f"deactivated (bond unlocks at block {r.bond_unlocks_at})"
    console.print(
        f"[bold]Environment {r.env_id}[/]: owner {r.owner}, {state}; "
        f"bond {wgt_cell(r.bond)} WGT; {r.batches} batches, {r.traces} traces, "
        f"{wgt_cell(r.royalty)} WGT of royalties"
    )
    console.print(_table("Versions", ("version", "cid", "block"), r.versions))
    if r.transfers:
        console.print(_table("Transfers", ("from", "to", "block"), r.transfers))
    console.print(
        _table(
            "Per epoch",
            ("epoch", "batches", "traces", "consensus", "weight", "royalty WGT"),
            [
                (
                    e.epoch,
                    e.batches,
                    e.traces,
                    _bps(e.consensus_bps),
                    _bps(e.weight),
                    wgt_cell(e.royalty),
                )
                for e in r.epochs
            ],
        )
    )


def render_top(r: TopReport, console: Console) -> None:
    """A leaderboard."""
    span = "all epochs" if r.epochs is None else f"epochs {r.epochs[0]}..{r.epochs[1]}"
    title = f"Top {r.role}s, {span}"
    cols: tuple[str, ...]
    rows: list[tuple[object, ...]]
    if r.role == "validator":
        cols = (
            "rank",
            "validator",
            "reward WGT",
            "epochs",
            "stake WGT",
            "agreement",
            "slashed WGT",
        )
        rows = [
            (
                x.rank,
                x.subject,
                wgt_cell(x.reward),
                x.epochs,
                wgt_cell(x.stake or 0),
                _bps(x.agreement_bps),
                wgt_cell(x.slashed or 0),
            )
            for x in r.rows
        ]
    else:  # miners and environments: the same columns, environments with their owner
        env = r.role == "env"
        owner = ("owner",) if env else ()
        cols = ("rank", "env" if env else "miner", "royalty WGT" if env else "reward WGT",
                "epochs", "batches", "traces", "consensus", *owner)  # fmt: skip
        rows = [
            (
                x.rank,
                x.subject,
                wgt_cell(x.reward),
                x.epochs,
                x.batches,
                x.traces,
                _bps(x.consensus_bps),
                *((x.owner,) if env else ()),
            )
            for x in r.rows
        ]
    console.print(_table(title, cols, rows))


def _metrics_summary(doc: dict[str, Any]) -> str:
    """The refinery's pass@1 (candidate and parent), else the first plain fields."""
    p = doc.get("pass_at_1")
    if isinstance(p, dict) and all(
        isinstance(p.get(k), int | float) for k in ("candidate", "parent")
    ):
        return f"pass@1 {p['candidate']:.3f} (parent {p['parent']:.3f})"
    plain = [(k, v) for k, v in doc.items() if not isinstance(v, dict | list)]
    return ", ".join(f"{k}={v}" for k, v in plain[:4])


def render_models(models: list[ModelRow], console: Console) -> None:
    """The model lineage."""
    rows = []
    for m in models:
        metrics = ""
        if m.metrics is not None:
            metrics = _metrics_summary(m.metrics)
            metrics += " (verified)" if m.metrics_verified else " (digest differs)"
        rows.append(
            (
                m.model_id,
                m.parent_id or "base",
                m.checkpoint_cid,
                m.dataset_cid or "",
                m.batches,
                m.traces,
                metrics,
            )
        )
    console.print(
        _table(
            "Models",
            ("model", "parent", "checkpoint", "dataset", "batches", "traces", "metrics"),
            rows,
        )
    )


def render_check(r: CheckReport, console: Console) -> None:
    """The outcome of ``check``, with every mismatch."""
    if r.ok:
        console.print(
            f"ledger matches the chain at block {r.block}: {r.comparisons:,} values compared, "
            f"{r.accounts} accounts, to the wei"
        )
        return
    console.print(
        _table(
            f"{len(r.mismatches)} mismatches at block {r.block}",
            ("what", "subject", "ledger", "source"),
            [(m.what, m.subject, m.ledger, m.source) for m in r.mismatches[:50]],
        )
    )
