"""Options every command spells the same way, and the signing session they open."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from worldgym.chain.contracts import Protocol
from worldgym.client.session import Session

__all__ = ["JsonOpt", "PasswordFileOpt", "WalletOpt", "signer"]

WalletOpt = Annotated[
    str | None,
    typer.Option("--wallet", "-w", envvar="WORLDGYM_WALLET", help="wallet name or address"),
]
PasswordFileOpt = Annotated[
    Path | None,
    typer.Option("--password-file", help="wallet password file (else $WORLDGYM_PASSWORD or ask)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON (one document on stdout)")]


def signer(ctx: typer.Context, wallet: str | None, password_file: Path | None) -> Protocol:
    """The deployment's contracts, sending as ``wallet`` (unlocked with ``password_file``,
    ``$WORLDGYM_PASSWORD`` or a prompt), from the root command's session."""
    return ctx.ensure_object(Session).protocol(
        wallet=wallet, password_file=password_file, sign=True
    )
