"""``worldgym stake | unstake | withdraw | validate | verify-batch``.

``verify-batch`` runs exactly the validator's checks on one batch, offline or
against a submitted one, and exits 0 whenever the batch was scored (even 0):
miners use it to check themselves before submitting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from client.contracts import BatchRecord, Protocol
from client.errors import UsageError
from client.inputs import format_wgt, parse_address, parse_wgt
from client.schemas import MAX_BATCH_BYTES, BatchFormatError, parse_batch
from client.session import JsonOpt, PasswordFileOpt, Session, WalletOpt
from client.tx import TxSender
from storage import cid_to_bytes, compute_cid
from validator.checks import BatchVerdict, score_batch
from validator.engine import BatchScorer, offline_sample_seed
from validator.env_weights import GainWeights, read_weights_file
from validator.errors import ValidatorError
from validator.loop import Validator, ValidatorConfig
from validator.state import ValidatorState

__all__ = ["AMOUNT_COMMAND", "stake", "unstake", "validate", "verify_batch", "withdraw"]

_out = Console(highlight=False, soft_wrap=True)
AmountArg = Annotated[str, typer.Argument(help="amount in WGT (decimals allowed)")]

AMOUNT_COMMAND = {"ignore_unknown_options": True}
"""Context settings of commands that take an AMOUNT: ``-5`` reaches the amount check (and is
refused as not positive) instead of being read as an unknown option."""


def _signer(ctx: typer.Context, wallet: str | None, password_file: Path | None) -> Protocol:
    session: Session = ctx.ensure_object(Session)
    return session.protocol(wallet=wallet, password_file=password_file, sign=True)


def _done(as_json: bool, report: dict[str, Any], line: str) -> None:
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _out.print(line)


def stake(
    ctx: typer.Context,
    amount: AmountArg,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stake WGT to validate or to bond as a miner (approves the staking contract first if
    needed; a failed stake leaves no approval behind)."""
    wei = parse_wgt(amount)
    protocol = _signer(ctx, wallet, password_file)
    address = protocol.sender.address  # type: ignore[union-attr]
    protocol.stake(wei)
    staked = protocol.stake_of(address)
    report = {"address": address, "staked": wei, "total_stake": staked}
    _done(as_json, report, f"staked {format_wgt(wei)}; total stake {format_wgt(staked)}")


def unstake(
    ctx: typer.Context,
    amount: AmountArg,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start unbonding AMOUNT WGT; withdraw it once the unbonding delay has passed."""
    wei = parse_wgt(amount)
    protocol = _signer(ctx, wallet, password_file)
    address = protocol.sender.address  # type: ignore[union-attr]
    staked = protocol.stake_of(address)
    if wei > staked:
        raise UsageError(
            f"{address} has {format_wgt(staked)} staked and cannot unbond {format_wgt(wei)}"
        )
    release = protocol.request_unbond(wei)
    report = {"address": address, "unbonding": wei, "release_epoch": release}
    line = f"unbonding {format_wgt(wei)}; withdraw from epoch {release} on (worldgym withdraw)"
    _done(as_json, report, line)


def withdraw(
    ctx: typer.Context,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw unbonded stake."""
    protocol = _signer(ctx, wallet, password_file)
    address = protocol.sender.address  # type: ignore[union-attr]
    amount, release, pending = protocol.unbonding_of(address)
    if amount == 0:
        raise UsageError(f"{address} has nothing unbonding: `worldgym unstake AMOUNT` first")
    epoch = protocol.current_epoch()
    if epoch < release:
        raise UsageError(
            f"the {format_wgt(amount)} unbonding of {address} is released at epoch {release}; "
            f"it is epoch {epoch}"
        )
    if pending:
        raise UsageError(
            f"{address} has {pending} committed epoch(s) not finalized yet: finalize them "
            "(`worldgym validate`) before withdrawing"
        )
    paid = protocol.withdraw()
    _done(as_json, {"address": address, "withdrawn": paid}, f"withdrew {format_wgt(paid)}")


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
    protocol = _signer(ctx, wallet, password_file)
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
        typer.echo(json.dumps({"address": sender.address, "done": done}, indent=2))


def _require_stake(protocol: Protocol, validator: str) -> None:
    """Refuse to start (before loading any model) when a commitment would be refused."""
    needed = protocol.deployment.params.min_stake
    staked = protocol.stake_of(validator)
    if staked < needed:
        more = -(-(needed - staked) // 10**18)
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
        typer.echo(json.dumps(report, indent=2))
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
