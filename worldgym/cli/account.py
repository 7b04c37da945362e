"""``worldgym status | claim | stake | unstake | withdraw``: standing, rewards and stake.

Every actor's commands (miner, validator, environment owner): validators
stake to commit, miners to bond; all take ``--json``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from worldgym.cli.options import JsonOpt, PasswordFileOpt, WalletOpt, signer
from worldgym.cli.output import done, print_json
from worldgym.client.session import Session
from worldgym.client.status import collect_status, render_status
from worldgym.core.amounts import format_wgt, parse_wgt
from worldgym.core.errors import UsageError

__all__ = ["AMOUNT_COMMAND", "claim", "stake", "status", "unstake", "withdraw"]

_out = Console(highlight=False, soft_wrap=True)


AmountArg = Annotated[str, typer.Argument(help="amount in WGT (decimals allowed)")]

AMOUNT_COMMAND = {"ignore_unknown_options": True}
"""Context settings of commands that take an AMOUNT: ``-5`` reaches the amount check (and is
refused as not positive) instead of being read as an unknown option."""


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
    protocol = signer(ctx, wallet, password_file)
    address = protocol.sender.address  # type: ignore[union-attr]
    protocol.stake(wei)
    staked = protocol.stake_of(address)
    report = {"address": address, "staked": wei, "total_stake": staked}
    done(as_json, report, f"staked {format_wgt(wei)}; total stake {format_wgt(staked)}")


def unstake(
    ctx: typer.Context,
    amount: AmountArg,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start unbonding AMOUNT WGT; withdraw it once the unbonding delay has passed."""
    wei = parse_wgt(amount)
    protocol = signer(ctx, wallet, password_file)
    address = protocol.sender.address  # type: ignore[union-attr]
    staked = protocol.stake_of(address)
    if wei > staked:
        raise UsageError(
            f"{address} has {format_wgt(staked)} staked and cannot unbond {format_wgt(wei)}"
        )
    release = protocol.request_unbond(wei)
    report = {"address": address, "unbonding": wei, "release_epoch": release}
    line = f"unbonding {format_wgt(wei)}; withdraw from epoch {release} on (worldgym withdraw)"
    done(as_json, report, line)


def withdraw(
    ctx: typer.Context,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw unbonded stake."""
    protocol = signer(ctx, wallet, password_file)
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
    done(as_json, {"address": address, "withdrawn": paid}, f"withdrew {format_wgt(paid)}")


def status(
    ctx: typer.Context,
    address: Annotated[
        str | None,
        typer.Option("--address", help="account to report on (default: your wallet)"),
    ] = None,
    wallet: WalletOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Network, block, current epoch and window, and an account's balances, stake and rewards."""
    report = collect_status(ctx.ensure_object(Session), address, wallet=wallet)
    if as_json:
        print_json(report)
    else:
        render_status(report, Console())


def claim(
    ctx: typer.Context,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Claim this wallet's rewards (as miner, validator or environment owner)."""
    protocol = signer(ctx, wallet, password_file)
    address = protocol.sender.address  # type: ignore[union-attr]
    amount = protocol.claim()
    balance = protocol.balance(address)
    line = (
        f"claimed {format_wgt(amount)}; balance {format_wgt(balance)}"
        if amount
        else f"nothing to claim for {address} (balance {format_wgt(balance)})"
    )
    done(as_json, {"address": address, "claimed": amount, "balance": balance}, line)
