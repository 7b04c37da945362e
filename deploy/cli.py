"""``worldgym devnet up | status | down | reset | fund``: a local network in one command."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from client.config import NetworkProfile, save_profile
from client.session import Session
from client.wallet import Keystore
from deploy.devchain import DevChain
from deploy.devnet import (
    DEVNET_CHAIN_ID,
    DevnetInfo,
    devnet_down,
    devnet_reset,
    devnet_status,
    devnet_up,
    fund_account,
    load_devnet_deployment,
)

__all__ = ["app"]

app = typer.Typer(
    name="devnet",
    help="Run a local WorldGym network: anvil, the contracts, funded dev accounts.",
    no_args_is_help=True,
)
_out = Console()
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]


def _session(ctx: typer.Context) -> Session:
    session = ctx.find_object(Session)
    return session if session is not None else Session()


def _print(info: DevnetInfo | None, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(info.model_dump() if info else {"running": False}, indent=2))
    elif info is None:
        _out.print("no devnet here: start one with `worldgym devnet up`")
    else:
        state = "[green]running[/]" if info.running else "[red]stopped[/]"
        block = f", block {info.block}" if info.block is not None else ""
        _out.print(f"devnet {state} at {info.url} (chain {info.chain_id}, pid {info.pid}{block})")
        _out.print(f"manifest: {info.manifest}")


@app.command()
def up(
    ctx: typer.Context,
    epoch_blocks: Annotated[
        int | None, typer.Option("--epoch-blocks", min=2, help="blocks per epoch (new chain only)")
    ] = None,
    block_time: Annotated[
        float, typer.Option("--block-time", min=0.0, help="seconds per block; 0 mines per tx")
    ] = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Start anvil on 127.0.0.1, deploy, fund dev accounts and wallets; safe to run twice."""
    session = _session(ctx)
    settings = session.settings
    wallets = [w.address for w in Keystore(settings.keystore_dir).list()]
    info = devnet_up(
        settings.data_dir,
        epoch_blocks=epoch_blocks,
        block_time=block_time or None,
        fund=wallets,
    )
    save_profile(
        "devnet",
        NetworkProfile(rpc_url=info.url, chain_id=DEVNET_CHAIN_ID),
        settings.config_path,
    )
    _print(info, as_json)


@app.command()
def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Whether the devnet runs, where, and at which block."""
    _print(devnet_status(_session(ctx).settings.data_dir), as_json)


@app.command()
def down(ctx: typer.Context) -> None:
    """Stop anvil by its pid; the chain is kept for the next `up`."""
    stopped = devnet_down(_session(ctx).settings.data_dir)
    _out.print("devnet stopped" if stopped else "devnet was not running")


@app.command()
def reset(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
) -> None:
    """Stop the devnet and forget its chain; the next `up` starts from genesis."""
    if not yes:
        typer.confirm("forget the devnet chain and its deployment?", abort=True)
    devnet_reset(_session(ctx).settings.data_dir)
    _out.print("devnet reset")


@app.command()
def fund(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="the account to give ETH and tokens")],
) -> None:
    """Give an account 100 ETH and 100,000 WGT on the running devnet, and stake its miner bond."""
    session = _session(ctx)
    info = devnet_status(session.settings.data_dir)
    if info is None or not info.running:
        raise typer.BadParameter("the devnet is not running: `worldgym devnet up` first")
    w3 = session.web3()
    chain = DevChain(w3, load_devnet_deployment(session.settings.data_dir), list(w3.eth.accounts))
    fund_account(chain, address)
    _out.print(f"funded {address}")
