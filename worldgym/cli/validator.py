"""``worldgym validate | verify-batch``.

``verify-batch`` runs exactly the validator's checks on one batch, offline or
against a submitted one, and exits 0 whenever the batch was scored (even 0):
miners use it to check themselves before submitting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from worldgym.chain.contracts import BatchRecord, Protocol
from worldgym.chain.tx import TxSender
from worldgym.cli.options import JsonOpt, PasswordFileOpt, WalletOpt, signer
from worldgym.cli.output import print_json
from worldgym.client.session import Session
from worldgym.core.amounts import WAD, format_wgt
from worldgym.core.errors import UsageError
from worldgym.core.inputs import parse_address
from worldgym.core.schemas import MAX_BATCH_BYTES, BatchFormatError, parse_batch
from worldgym.storage import cid_to_bytes, compute_cid
from worldgym.validator.checks import BatchVerdict, score_batch
from worldgym.validator.engine import BatchScorer, offline_sample_seed
from worldgym.validator.env_weights import GainWeights, read_weights_file
from worldgym.validator.errors import ValidatorError
from worldgym.validator.loop import Validator, ValidatorConfig
from worldgym.validator.state import ValidatorState

__all__ = ["validate", "verify_batch"]

_out = Console(highlight=False, soft_wrap=True)


def _scorer(
    session: Session, protocol: Protocol, address: str, *, prove: bool, device: str
) -> BatchScorer:
    cache = session.settings.data_dir / "models"
    return BatchScorer(protocol, session.store(), cache, address, prove=prove, device=device)


def validate(  # noqa: PLR0917 - a Typer command: one parameter per option
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="one pass over the recent epochs, then stop")
    ] = False,
    epochs: Annotated[
        int | None,
        typer.Option(
            "--epochs",
            min=1,
            help="stop once this many epochs it revealed are finalized and claimed",
        ),
    ] = None,
    device: Annotated[
        str, typer.Option("--device", help="torch device for the rollout check")
    ] = "cpu",
    finalize_chunk: Annotated[
        int, typer.Option("--finalize-chunk", min=1, help="finalize steps per transaction")
    ] = 64,
    env_weights: Annotated[
        Path | None,
        typer.Option(
            "--env-weights",
            help='JSON {"env_id": weight 0..10000} overriding the default: the refinery\'s '
            "measured gains, a floor for new environments, 0 for ones the gym refuses",
        ),
    ] = None,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate: score closed epochs, commit, reveal, finalize and claim, as a staked validator.

    Runs until Ctrl-C (outages are waited out), or one pass with --once, or until --epochs N
    epochs it revealed are finalized.
    """
    if once and epochs is not None:
        raise UsageError("pass --once or --epochs N, not both")
    overrides = read_weights_file(env_weights) if env_weights is not None else None
    session: Session = ctx.ensure_object(Session)
    protocol = signer(ctx, wallet, password_file)
    sender = protocol.sender
    assert isinstance(sender, TxSender)
    _require_stake(protocol, sender.address)
    gym = protocol.gym.address.lower()
    root = session.settings.data_dir / "validator" / f"{protocol.deployment.chain_id}-{gym}"
    scorer = _scorer(session, protocol, sender.address, prove=True, device=device)
    console = Console(stderr=True)
    weights = GainWeights(
        protocol, scorer.store, scorer.environment, overrides=overrides, log=console.print
    )
    state = ValidatorState(root / f"{sender.address.lower()}.db")
    validator = Validator(
        protocol, scorer, state, ValidatorConfig(finalize_chunk=finalize_chunk),
        env_weights=weights, console=console,
    )  # fmt: skip
    console.print(f"validating as {sender.address}; scores and salts in {state.path}")
    done: list[str] = []
    try:
        done = validator.run(once=once, epochs=epochs)
    except KeyboardInterrupt:
        console.print("stopped; scores and salts are kept in " + str(state.path))
    finally:
        state.close()
    if as_json:
        print_json({"address": sender.address, "done": done})


def _require_stake(protocol: Protocol, validator: str) -> None:
    """Refuse to start (before loading any model) when a commitment would be refused."""
    needed = protocol.deployment.params.min_stake
    staked = protocol.stake_of(validator)
    if staked < needed:
        more = -(-(needed - staked) // WAD)
        raise ValidatorError(
            f"{validator} has {format_wgt(staked)} staked but a validator needs "
            f"{format_wgt(needed)} to commit: run `worldgym stake AMOUNT` first (AMOUNT at "
            f"least {more})"
        )


def _record(
    protocol: Protocol, cid: str, data: bytes | None, *, epoch: int, miner: str, env: int
) -> tuple[BatchRecord, str]:
    binary = cid_to_bytes(cid)
    for record in protocol.batches(epoch):
        if record.cid == binary and record.miner == miner:
            return record, f"on chain as batch {record.index} of epoch {epoch}"
    sequence, model_id, count, version = 0, 0, 0, 1
    if data is not None:
        try:
            h = parse_batch(data).header
            sequence, model_id, count, version = (
                h.sequence,
                h.model.id,
                h.task_count * h.group_size,
                h.env_version,
            )
        except BatchFormatError:
            pass
    record = BatchRecord(epoch, 0, miner, env, version, sequence, count, model_id, binary, 0, "")
    return record, "not on chain: checked against the header's own sequence, model and count"


def verify_batch(  # noqa: PLR0917 - a Typer command: one parameter per option
    ctx: typer.Context,
    batch: Annotated[str, typer.Argument(help="a batch file, or the CID of a pinned batch")],
    env: Annotated[int, typer.Option("--env", min=1, help="environment id")],
    epoch: Annotated[int, typer.Option("--epoch", min=0, help="epoch of the batch")],
    miner: Annotated[str, typer.Option("--miner", help="the miner's address")],
    no_proof: Annotated[
        bool, typer.Option("--no-proof", help="skip the proof of rollout (no model needed)")
    ] = False,
    device: Annotated[str, typer.Option("--device")] = "cpu",
    as_json: JsonOpt = False,
) -> None:
    """Run the validator's checks on one batch and print its score, each trace and any reason."""
    session: Session = ctx.ensure_object(Session)
    miner = parse_address(miner, "--miner")
    protocol = session.protocol()
    path = Path(batch)
    data: bytes | None
    reason = None
    if path.is_file():
        if path.stat().st_size > MAX_BATCH_BYTES:
            data, reason = None, f"the batch file is over the cap of {MAX_BATCH_BYTES:,} bytes"
        else:
            data = path.read_bytes()
        cid = compute_cid(data) if data is not None else "bafkqaaa"
    elif batch.startswith(("baf", "Qm")):
        cid, data = batch, None
    else:
        raise UsageError(f"{batch} is neither a file nor a CID")
    scorer = _scorer(session, protocol, miner, prove=not no_proof, device=device)
    record, where = _record(protocol, cid, data, epoch=epoch, miner=miner, env=env)
    if data is None and reason is None:
        data, reason = scorer.fetch(record)
    seed = protocol.seed(epoch)
    if seed is None:
        raise ValidatorError(f"epoch {epoch} has no seed on chain yet: its tasks are not fixed")
    sample_seed = protocol.seed(epoch + 1) or offline_sample_seed(record.cid)
    verdict = score_batch(data, scorer.context(record, seed, sample_seed), reason)
    _print(verdict, cid, where, as_json)


def _print(verdict: BatchVerdict, cid: str, where: str, as_json: bool) -> None:
    report: dict[str, Any] = {"cid": cid, "where": where, **verdict.to_json()}
    if as_json:
        print_json(report)
        return
    _out.print(f"batch {cid} ({where})")
    flag = " FRAUD" if verdict.fraud else ""
    _out.print(f"score {verdict.score} / 10000{flag} (digest {verdict.digest}): {verdict.reason}")
    if verdict.traces:
        table = Table()
        for col in ("task", "sample", "score", "reason", "rollout"):
            table.add_column(col)
        for t in verdict.traces:
            rollout = (
                "" if t.rollout is None else ("ok" if t.rollout["ok"] else t.rollout["reason"])
            )
            table.add_row(str(t.task), str(t.sample), f"{t.score:.2f}", t.reason[:60], rollout)
        _out.print(table)
