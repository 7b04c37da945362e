"""``worldgym status`` and ``worldgym claim``: where an account stands, and its rewards paid out.

Both are every actor's commands (miner, validator, environment owner); both
take ``--json``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from client.inputs import format_wgt
from client.session import JsonOpt, PasswordFileOpt, Session, WalletOpt
from client.status import collect_status, render_status

__all__ = ["claim", "status"]

_out = Console(highlight=False, soft_wrap=True)


def _echo(as_json: bool, report: dict[str, Any], line: str) -> None:
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _out.print(line)


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
        typer.echo(json.dumps(report, indent=2))
    else:
        render_status(report, Console())


def claim(
    ctx: typer.Context,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Claim this wallet's rewards (as miner, validator or environment owner)."""
    session: Session = ctx.ensure_object(Session)
    protocol = session.protocol(wallet=wallet, password_file=password_file, sign=True)
    address = protocol.sender.address  # type: ignore[union-attr]
    amount = protocol.claim()
    balance = protocol.balance(address)
    line = (
        f"claimed {format_wgt(amount)}; balance {format_wgt(balance)}"
        if amount
        else f"nothing to claim for {address} (balance {format_wgt(balance)})"
    )
    _echo(as_json, {"address": address, "claimed": amount, "balance": balance}, line)
