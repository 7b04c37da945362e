"""``worldgym refine``, ``worldgym model list|show|register`` and ``worldgym dataset export``."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from worldgym.chain.contracts import Protocol
from worldgym.cli.options import JsonOpt, PasswordFileOpt, WalletOpt
from worldgym.cli.output import print_json
from worldgym.client.session import Session
from worldgym.core.errors import UsageError, WorldGymError
from worldgym.refinery.config import ALGORITHMS, parse_config
from worldgym.refinery.curve import CURVE_NAME
from worldgym.refinery.dataset import ExportFormat, dataset_rows, write_rows
from worldgym.refinery.errors import RefineryError
from worldgym.refinery.lineage import describe_model, lineage
from worldgym.refinery.runs import refinery_root
from worldgym.refinery.schedule import parse_interval, run_every
from worldgym.refinery.selection import SelectionConfig, select
from worldgym.refinery.service import RefineConfig, Refinery, RunOutcome
from worldgym.refinery.sources import LedgerReader, finalized_epochs

__all__ = ["dataset_app", "model_app", "refine", "session_root"]

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

model_app = typer.Typer(help="Registered models and their lineage.", no_args_is_help=True)
dataset_app = typer.Typer(help="Verified traces as a dataset.", no_args_is_help=True)

EpochsOpt = Annotated[
    str | None, typer.Option("--epochs", help="epochs A:B (both included), e.g. 4:9")
]
JobOpt = Annotated[
    Path | None,
    typer.Option(
        "--job", help="TOML with algorithm, [selection], [train], [grpo], [eval], gate_margin, ..."
    ),
]
AlgorithmOpt = Annotated[
    str | None,
    typer.Option(
        "--algorithm",
        help="grpo (the informative groups) or sft (the verified traces); overrides the job's",
        envvar="WORLDGYM_REFINE_ALGORITHM",
    ),
]


def session_root(session: Session) -> Path:
    """The refinery's working directory for the session's deployment."""
    deployment = session.deployment()
    return refinery_root(
        session.settings.data_dir, deployment.chain_id, deployment.addresses.worldgym
    )


def parse_epochs(text: str) -> list[int]:
    """``A:B`` -> [A, ..., B]; ``A`` -> [A]."""
    first, _, last = text.partition(":")
    try:
        a, b = int(first), int(last or first)
    except ValueError:
        raise UsageError(f"--epochs {text!r}: write A:B with whole numbers, e.g. 4:9") from None
    if a < 0 or b < a:
        raise UsageError(f"--epochs {text!r}: need 0 <= A <= B")
    if b - a >= 10_000:
        raise UsageError(f"--epochs {text!r} spans over 10,000 epochs; narrow it")
    return list(range(a, b + 1))


def load_job(path: Path | None, algorithm: str | None = None) -> RefineConfig:
    """The job settings from a TOML file (defaults when None), ``algorithm`` overriding its own."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = tomllib.loads(Path(path).read_text())
        except OSError as exc:
            raise RefineryError(f"cannot read the job file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise RefineryError(f"the job file {path} is not valid TOML: {exc}") from None
    if algorithm is not None:
        if algorithm not in ALGORITHMS:
            raise UsageError(f"--algorithm {algorithm!r}: use one of {', '.join(ALGORITHMS)}")
        values["algorithm"] = algorithm
    return parse_config(RefineConfig, values)


def _report(outcome: RunOutcome, as_json: bool, algorithm: str) -> None:
    if as_json:
        plan = outcome.plan
        typer.echo(
            json.dumps(
                {
                    "run": plan.key if plan else None,
                    "parent": plan.parent_id if plan else None,
                    "epochs": list(plan.epochs) if plan else [],
                    "stage": outcome.stage.value if outcome.stage else None,
                    "algorithm": algorithm,
                    "model_id": outcome.model_id,
                    "message": outcome.message,
                    "metrics": outcome.state.get("metrics"),
                    "dataset_cid": outcome.state.get("dataset_cid"),
                },
                indent=2,
            )
        )
    else:
        _out.print(outcome.message)


def refine(  # noqa: PLR0917 - a Typer command: one parameter per option
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="one run, then exit (the default)")] = False,
    every: Annotated[
        str | None, typer.Option("--every", help="run now and then every interval: 30m, 1h, 1d")
    ] = None,
    epochs: EpochsOpt = None,
    job: JobOpt = None,
    algorithm: AlgorithmOpt = None,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train the latest model on the verified traces (sft) or informative groups (grpo) of
    finalized epochs; publish if not worse on fresh held-out tasks."""
    if once and every:
        raise UsageError("pass --once or --every, not both")
    session: Session = ctx.ensure_object(Session)
    config = load_job(job, algorithm)
    chosen = parse_epochs(epochs) if epochs else None
    protocol = session.protocol(wallet=wallet, password_file=password_file, sign=True)
    protocol.require_refinery()  # before selecting or training anything
    root = session_root(session)

    def one_run() -> None:
        with Progress(console=_err, transient=True) as progress:
            refinery = Refinery(
                protocol, session.store(), root, config, log=_err.log, progress=progress
            )
            outcome = refinery.run_once(chosen)
        _report(outcome, as_json, config.algorithm)
        if (root / CURVE_NAME).exists() and not as_json:
            _out.print(f"learning curve: {root / CURVE_NAME}")

    if every is None:
        one_run()
        return
    seconds = parse_interval(every)
    _err.print(f"refining every {every} ({seconds:g} s); Ctrl-C stops")

    def on_error(exc: WorldGymError) -> None:
        _err.print(f"run failed: {exc}; it resumes at the next tick")

    run_every(one_run, seconds, on_error=on_error)


# ─── models ──────────────────────────────────────────────────────────────────


def _readonly(ctx: typer.Context) -> tuple[Session, Protocol]:
    session: Session = ctx.find_object(Session) or Session()
    return session, session.protocol()


@model_app.command("list")
def model_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every registered model: parent, block, checkpoint, traces trained on, pass@1."""
    session, protocol = _readonly(ctx)
    store = session.store()
    latest = protocol.latest_model_id()
    rows = [describe_model(protocol, store, i) for i in range(1, latest + 1)]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{latest} models (miners follow {latest or '-'})")
    for column in ("id", "parent", "block", "traces", "pass@1", "checkpoint"):
        table.add_column(column)
    for r in rows:
        dataset = r.get("dataset_summary") or {}
        metrics = r.get("metrics")
        score = f"{metrics['pass_at_1']['candidate']:.3f}" if metrics else "-"
        table.add_row(
            str(r["id"]), str(r["parent"] or "-"), str(r["block"]),
            str(dataset.get("traces", "-")), score, r["checkpoint"],
        )  # fmt: skip
    _out.print(table)


@model_app.command("show")
def model_show(
    ctx: typer.Context,
    model_id: Annotated[int, typer.Argument(min=1, help="model id")],
    as_json: JsonOpt = False,
) -> None:
    """A model, its lineage back to the base model, its dataset and its metrics."""
    session, protocol = _readonly(ctx)
    report = describe_model(protocol, session.store(), model_id)
    report["lineage"] = lineage(protocol, model_id)
    if as_json:
        print_json(report)
        return
    _out.print(f"[bold]model {model_id}[/]  parent {report['parent'] or '- (base model)'}")
    _out.print(f"  lineage     {' <- '.join(str(i) for i in report['lineage'])}")
    for label, key in (
        ("registrar", "registrar"), ("block", "block"), ("checkpoint", "checkpoint"),
        ("dataset", "dataset"), ("metrics", "metrics_digest"),
    ):  # fmt: skip
        _out.print(f"  {label:<11} {report[key] or '-'}")
    dataset = report.get("dataset_summary")
    if dataset:
        _out.print(
            f"  trained on  {dataset['traces']} traces from epochs {dataset['epochs']} "
            f"({dataset['batches_used']}/{dataset['batches']} batches; per env "
            f"{dataset['per_environment']})"
        )
    metrics = report.get("metrics")
    if metrics:
        p = metrics["pass_at_1"]
        _out.print(f"  trained by  {metrics.get('algorithm', 'sft')}")
        _out.print(f"  pass@1      {p['parent']:.3f} (parent) -> {p['candidate']:.3f}")
    for note in report["notes"]:
        _out.print(f"  note        {note}")


@model_app.command("register")
def model_register(
    ctx: typer.Context,
    model_dir: Annotated[Path, typer.Argument(help="a checkpoint directory (safetensors)")],
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pin a checkpoint and register it as a base model (needs the refinery role)."""
    from worldgym.policy.checkpoint import register_checkpoint

    session: Session = ctx.ensure_object(Session)
    protocol = session.protocol(wallet=wallet, password_file=password_file, sign=True)
    protocol.require_refinery()  # before pinning the checkpoint
    handle = register_checkpoint(protocol, session.store(), model_dir)
    if as_json:
        typer.echo(json.dumps({"model_id": handle.id, "checkpoint": handle.cid}))
    else:
        _out.print(f"registered model {handle.id} (checkpoint {handle.cid})")


# ─── datasets ────────────────────────────────────────────────────────────────


@dataset_app.command("export")
def dataset_export(  # noqa: PLR0917 - a Typer command: one parameter per option
    ctx: typer.Context,
    epochs: Annotated[str, typer.Option("--epochs", help="epochs A:B (both included)")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl or parquet")] = "jsonl",
    out: Annotated[Path | None, typer.Option("--out", help="file to write")] = None,
    min_consensus: Annotated[
        int, typer.Option("--min-consensus", min=0, max=10_000, help="batch floor, bps")
    ] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Verified-correct, deduplicated traces of finalized epochs as a Hugging Face dataset file."""
    if fmt not in ("jsonl", "parquet"):
        raise UsageError(f"--format {fmt!r}: use jsonl or parquet")
    session, protocol = _readonly(ctx)
    wanted = parse_epochs(epochs)
    done = finalized_epochs(protocol, wanted)
    skipped = [e for e in wanted if e not in set(done)]
    reader = LedgerReader(protocol, session.store(), session_root(session) / "models")
    ledger = reader.read(done, min_consensus_bps=min_consensus)
    config = SelectionConfig(min_consensus_bps=min_consensus, max_traces=None, max_per_miner=None)
    rows = dataset_rows(select(ledger, config))
    path = out or Path(f"worldgym-epochs-{wanted[0]}-{wanted[-1]}.{fmt}")
    fmt_checked: ExportFormat = "jsonl" if fmt == "jsonl" else "parquet"
    write_rows(rows, path, fmt_checked)
    unreadable = [b for b in ledger.batches if (b.problem or "").startswith("unreadable")]
    summary: dict[str, Any] = {
        "path": str(path),
        "rows": len(rows),
        "epochs": done,
        "not_finalized": skipped,
        "unreadable": [
            {"epoch": b.epoch, "index": b.index, "cid": b.cid, "reason": b.problem}
            for b in unreadable
        ],
    }
    if as_json:
        print_json(summary)
    else:
        _out.print(f"wrote {len(rows)} traces from epochs {done} to {path}")
        if skipped:
            _err.print(f"skipped epochs not finalized: {skipped}")
        loader = "json" if fmt_checked == "jsonl" else "parquet"
        _out.print(f'load it with datasets.load_dataset("{loader}", data_files="{path}")')
    for b in unreadable:
        _err.print(f"epoch {b.epoch} batch {b.index} ({b.cid}): {b.problem}")
    if unreadable:
        raise RefineryError(
            f"{len(unreadable)} batch(es) could not be read, so their traces are missing "
            f"from {path}: is the storage that holds them reachable?"
        )
