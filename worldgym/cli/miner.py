"""``worldgym mine`` and ``worldgym batches``.

``mine`` runs the mining loop; ``batches`` shows the spool (every batch this
wallet built on this deployment), the last submissions and the rewards
waiting to be claimed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from eth_utils import to_checksum_address
from rich.console import Console
from rich.table import Table

from worldgym.chain.contracts import Protocol
from worldgym.chain.tx import TxSender
from worldgym.cli.options import JsonOpt, PasswordFileOpt, WalletOpt
from worldgym.cli.output import print_json
from worldgym.client.session import Session
from worldgym.client.supervise import Supervisor
from worldgym.client.wallet import select_wallet
from worldgym.core.amounts import WAD, format_wgt
from worldgym.core.errors import UsageError, WorldGymError
from worldgym.core.inputs import parse_existing_path
from worldgym.miner.errors import MinerError
from worldgym.miner.loop import EpochRound, Miner, MiningConfig
from worldgym.miner.spool import Spool
from worldgym.miner.submit import Submitter
from worldgym.policy import BACKENDS, load_policy
from worldgym.policy.checkpoint import ModelHandle, local_model, resolve_model
from worldgym.storage import compute_cid

__all__ = ["batches", "mine", "spool_dir"]

_out = Console(highlight=False, soft_wrap=True)


def spool_dir(session: Session, miner: str) -> Path:
    """The spool of ``miner`` on the session's deployment."""
    deployment = session.deployment()
    gym = deployment.addresses.by_contract()["WorldGym"].lower()
    return session.settings.data_dir / "miner" / f"{deployment.chain_id}-{gym}" / miner.lower()


def _model(session: Session, protocol: Any, model: str | None) -> ModelHandle:
    store = session.store()
    if model is not None and not model.isdigit():
        return local_model(protocol, store, Path(model))
    cache = session.settings.data_dir / "models"
    return resolve_model(protocol, store, cache, int(model) if model else None)


def _model_or_outage(session: Session, protocol: Any, model: str | None) -> ModelHandle:
    """:func:`_model`, with a failure while storage is down raised as the storage outage."""
    try:
        return _model(session, protocol, model)
    except WorldGymError:
        session.store().has(compute_cid(b""))  # raises StoreUnavailableError if storage is down
        raise


def _check_model_option(model: str | None) -> None:
    """A checkpoint directory must exist; an id must be a registered model's (checked later)."""
    if model is not None and not model.isdigit():
        parse_existing_path(Path(model), "--model", directory=True)


EnvOpt = Annotated[list[int] | None, typer.Option("--env", help="environment id (repeatable)")]
OnceOpt = Annotated[bool, typer.Option("--once", help="mine the current epoch, then stop")]
EpochsOpt = Annotated[int | None, typer.Option("--epochs", min=1, help="epochs to mine")]
TasksOpt = Annotated[int, typer.Option("--tasks-per-batch", min=1, help="tasks in each batch")]
PerEpochOpt = Annotated[
    int, typer.Option("--batches-per-epoch", min=1, help="batches per environment per epoch")
]
BackendOpt = Annotated[str, typer.Option("--backend", help=f"one of {', '.join(BACKENDS)}")]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="registered model id or checkpoint dir (default: the latest)"),
]
DeviceOpt = Annotated[str, typer.Option("--device", help="torch device (transformers)")]
BatchSizeOpt = Annotated[int, typer.Option("--batch-size", min=1, help="sequences per pass")]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="OpenAI-compatible server URL (openai backend)")
]
TensorParallelOpt = Annotated[
    int, typer.Option("--tensor-parallel", min=1, help="GPUs per model (vllm)")
]
RetryOpt = Annotated[
    float | None,
    typer.Option(
        "--retry-s", min=0.0, help="give up on an outage after this many seconds (default: never)"
    ),
]


def mine(  # noqa: PLR0917 - a Typer command: one parameter per option
    ctx: typer.Context,
    env: EnvOpt = None,
    once: OnceOpt = False,
    epochs: EpochsOpt = None,
    tasks_per_batch: TasksOpt = 8,
    batches_per_epoch: PerEpochOpt = 1,
    backend: BackendOpt = "transformers",
    model: ModelOpt = None,
    device: DeviceOpt = "cpu",
    batch_size: BatchSizeOpt = 16,
    base_url: BaseUrlOpt = None,
    tensor_parallel: TensorParallelOpt = 1,
    retry_s: RetryOpt = None,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mine: each epoch, derive this wallet's tasks, sample, pin and submit one batch per --env.

    Each batch is sized to the time the epoch has left; outages are waited out. With
    --once or --epochs the command exits 1 when no batch was confirmed.
    """
    if not env:
        raise UsageError("name the environments to mine: worldgym mine --env ID [--env ID ...]")
    if backend not in BACKENDS:
        raise UsageError(f"--backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if once and epochs is not None:
        raise UsageError("pass --once or --epochs N, not both")
    _check_model_option(model)
    config = MiningConfig(
        env_ids=tuple(env),
        tasks_per_batch=tasks_per_batch,
        batches_per_epoch=batches_per_epoch,
        retry_s=retry_s,
    )
    session: Session = ctx.ensure_object(Session)
    protocol = session.protocol(wallet=wallet, password_file=password_file, sign=True)
    sender = protocol.sender
    assert isinstance(sender, TxSender)
    _require_bond(protocol, sender.address)
    store = session.store()
    console = Console(stderr=True)
    supervisor = Supervisor("miner", console.print, max_delay_s=5.0, give_up_s=retry_s)
    handle = supervisor.call(
        lambda: _model_or_outage(session, protocol, model), "fetching the model"
    )
    policy = load_policy(
        backend,
        handle.path,
        device=device,
        batch_size=batch_size,
        base_url=base_url,
        tensor_parallel_size=tensor_parallel,
    )
    spool = Spool(spool_dir(session, sender.address))
    submitter = Submitter(protocol, sender, store, spool, log=console.log)
    miner = Miner(
        protocol, submitter, spool, policy=policy, model=handle, config=config, console=console
    )
    console.print(f"mining as {sender.address} with model {handle.id} ({policy.name})")
    rounds: list[EpochRound] = []
    try:
        rounds = miner.run_rounds(epochs=1 if once else epochs)
    except KeyboardInterrupt:
        console.print("stopped; unfinished batches stay in the spool and resume on the next start")
    finally:
        spool.close()
    _summary(rounds, as_json)


def _summary(rounds: list[EpochRound], as_json: bool) -> None:
    """Print what was mined; exit 1 when a bounded run confirmed no batch."""
    confirmed = [e for r in rounds for e in r.confirmed]
    if as_json:
        report = {
            "epochs": [
                {
                    "epoch": r.epoch,
                    "skipped": r.skipped,
                    "batches": [
                        {"env": e.env_id, "cid": e.cid, "state": e.state.value,
                         "index": e.batch_index, "traces": e.trace_count, "note": e.note}
                        for e in (*r.drained, *r.entries)
                    ],
                }
                for r in rounds
            ],
            "confirmed": len(confirmed),
        }  # fmt: skip
        print_json(report)
    if rounds and not confirmed:
        reasons = [r.skipped for r in rounds if r.skipped]
        reasons += [
            f"{e.cid} {e.state.value}: {e.note}" for r in rounds for e in (*r.drained, *r.entries)
        ]
        raise MinerError("no batch was confirmed" + (f" ({'; '.join(reasons)})" if reasons else ""))


def _require_bond(protocol: Protocol, miner: str) -> None:
    """Refuse to start (before loading a model) when the contract would refuse every batch."""
    bond = protocol.miner_bond(miner)
    if not bond.bonded:
        more = -(-bond.shortfall // WAD)  # whole WGT, rounded up
        raise MinerError(
            f"{miner} has {format_wgt(bond.staked)} staked but miners need a bond of "
            f"{format_wgt(bond.required)} to submit batches: run `worldgym stake AMOUNT` "
            f"first (AMOUNT at least {more})"
        )


def _status(session: Session, address: str) -> dict[str, Any]:
    protocol = session.protocol()
    spool = Spool(spool_dir(session, address))
    try:
        entries = spool.entries()
    finally:
        spool.close()
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.state.value] = counts.get(e.state.value, 0) + 1
    return {
        "miner": address,
        "spool": str(spool.root),
        "states": counts,
        "batches": [
            {
                "epoch": e.epoch,
                "sequence": e.sequence,
                "env": e.env_id,
                "traces": e.trace_count,
                "state": e.state.value,
                "index": e.batch_index,
                "tx": e.tx_hash,
                "cid": e.cid,
                "note": e.note,
            }
            for e in entries[-20:]
        ],
        "claimable": protocol.claimable(address),
        "balance": protocol.balance(address),
    }


def batches(ctx: typer.Context, wallet: WalletOpt = None, as_json: JsonOpt = False) -> None:
    """The spool (built, pinned, submitted, confirmed batches), last submissions and rewards."""
    session: Session = ctx.find_object(Session) or Session()
    address = to_checksum_address(select_wallet(session.settings, wallet).address)
    report = _status(session, address)
    if as_json:
        print_json(report)
        return
    table = Table(title=f"miner {address} — spool {report['spool']}")
    for column in ("epoch", "seq", "env", "traces", "state", "index", "cid / note"):
        table.add_column(column)
    for b in report["batches"]:
        detail = b["cid"] if b["state"] == "confirmed" else f"{b['cid']}\n{b['note'] or ''}"
        index = "" if b["index"] is None else str(b["index"])
        cells = (b["epoch"], b["sequence"], b["env"], b["traces"], b["state"], index, detail)
        table.add_row(*(str(c) for c in cells))
    _out.print(table)
    states = ", ".join(f"{n} {s}" for s, n in sorted(report["states"].items())) or "empty"
    _out.print(f"spool: {states}")
    claimable, balance = format_wgt(report["claimable"]), format_wgt(report["balance"])
    _out.print(f"claimable {claimable} · balance {balance}")
