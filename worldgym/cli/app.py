"""The ``worldgym`` command line: one Typer app, one sub-app or command per actor.

Errors, exit codes and ``--json`` are :mod:`worldgym.cli.output`'s; the options
every command shares are :mod:`worldgym.cli.options`'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from worldgym.cli import account as account_cli
from worldgym.cli import dashboard as dashboard_cli
from worldgym.cli import devnet as devnet_cli
from worldgym.cli import env as gym_cli
from worldgym.cli import env_registry as registry_cli  # noqa: F401  (adds the on-chain commands to `env`)
from worldgym.cli import ledger as ledger_cli
from worldgym.cli import miner as miner_cli
from worldgym.cli import refinery as refinery_cli
from worldgym.cli import storage as storage_cli
from worldgym.cli import validator as validator_cli
from worldgym.cli import wallet as wallet_cli
from worldgym.cli.demo import demo
from worldgym.cli.deploy import deploy as deploy_command
from worldgym.cli.model import model_init
from worldgym.cli.output import errors
from worldgym.client.session import Session

__all__ = ["app", "main"]


class _Group(TyperGroup):
    """Root group: a WorldGym error from any sub-command is one line on stderr and its
    exit code (:mod:`worldgym.cli.output`)."""

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]
        with errors():
            return super().invoke(ctx)


app = typer.Typer(
    name="worldgym",
    cls=_Group,
    help="WorldGym: an open RL gym for language models, run as a protocol on an EVM chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("status")(account_cli.status)
app.command("claim")(account_cli.claim)
app.add_typer(wallet_cli.app, name="wallet")
app.add_typer(devnet_cli.app, name="devnet")
app.command("deploy")(deploy_command)
app.command("demo")(demo)
app.add_typer(gym_cli.app, name="env")
app.add_typer(storage_cli.app, name="storage")
app.add_typer(ledger_cli.app, name="ledger")
app.command("dashboard")(dashboard_cli.dashboard)
app.command("mine")(miner_cli.mine)
app.command("batches")(miner_cli.batches)
app.command("refine")(refinery_cli.refine)
refinery_cli.model_app.command("init")(model_init)
app.add_typer(refinery_cli.model_app, name="model")
app.add_typer(refinery_cli.dataset_app, name="dataset")
app.command("stake", context_settings=account_cli.AMOUNT_COMMAND)(account_cli.stake)
app.command("unstake", context_settings=account_cli.AMOUNT_COMMAND)(account_cli.unstake)
app.command("withdraw")(account_cli.withdraw)
app.command("validate")(validator_cli.validate)
app.command("verify-batch")(validator_cli.verify_batch)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", envvar="WORLDGYM_CONFIG", help="config file (TOML)"),
    ] = None,
    network: Annotated[
        str | None,
        typer.Option("--network", "-n", envvar="WORLDGYM_NETWORK", help="network profile"),
    ] = None,
) -> None:
    session = Session(config, network, prompt=lambda q: typer.prompt(q, hide_input=True))
    ctx.obj = session
    ctx.call_on_close(session.close)  # key locks go when the command ends, even in-process


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
