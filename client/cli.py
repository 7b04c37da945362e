"""The ``worldgym`` command line: one Typer app, one sub-app per actor group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from client import account_cli, wallet_cli
from client.errors import WorldGymError
from client.model_init import model_init
from client.session import Session
from deploy import cli as devnet_cli
from deploy.deploy_cli import deploy as deploy_command
from gym import cli as gym_cli
from gym import registry_cli  # noqa: F401  (adds the on-chain commands to `env`)
from ledger import cli as ledger_cli
from ledger.dashboard import cli as dashboard_cli
from miner import cli as miner_cli
from refinery import cli as refinery_cli
from storage import cli as storage_cli
from validator import cli as validator_cli

__all__ = ["app", "main"]

_err = Console(stderr=True)


class _Group(TyperGroup):
    """Root group: a WorldGym error from any sub-command is one line on stderr and exit 1."""

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except WorldGymError as exc:
            # The message is plain text: brackets in it ([networks.x]) are not markup.
            _err.print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
            raise typer.Exit(1) from None


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
app.add_typer(gym_cli.app, name="env")
app.add_typer(storage_cli.app, name="storage")
app.add_typer(ledger_cli.app, name="ledger")
app.command("dashboard")(dashboard_cli.dashboard)
app.add_typer(miner_cli.app, name="mine")
app.command("refine")(refinery_cli.refine)
refinery_cli.model_app.command("init")(model_init)
app.add_typer(refinery_cli.model_app, name="model")
app.add_typer(refinery_cli.dataset_app, name="dataset")
app.command("stake", context_settings=validator_cli.AMOUNT_COMMAND)(validator_cli.stake)
app.command("unstake", context_settings=validator_cli.AMOUNT_COMMAND)(validator_cli.unstake)
for _command in (
    validator_cli.withdraw,
    validator_cli.validate,
    validator_cli.verify_batch,
):
    app.command(_command.__name__.replace("_", "-"))(_command)


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
