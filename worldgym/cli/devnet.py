"""``worldgym devnet up | status | down | reset | fund``: a local network in one command."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from web3 import Web3

from worldgym.chain.contracts import REFINERY_ROLE
from worldgym.cli import wallet as wallet_cli
from worldgym.cli.options import JsonOpt
from worldgym.cli.output import print_json
from worldgym.client.config import NetworkProfile, Settings, save_profile
from worldgym.client.session import Session
from worldgym.client.wallet import Keystore, WalletInfo, account_address
from worldgym.core.amounts import format_wgt
from worldgym.core.errors import UsageError
from worldgym.deploy.devchain import DevChain
from worldgym.deploy.devnet import (
    DEV_TOKEN_GRANT,
    DEVNET_CHAIN_ID,
    DevnetInfo,
    devnet_down,
    devnet_reset,
    devnet_status,
    devnet_up,
    fund_account,
    grant_refinery,
    load_devnet_deployment,
)

__all__ = ["app", "fund_new_wallet"]

app = typer.Typer(
    name="devnet",
    help="Run a local WorldGym network: anvil, the contracts, funded dev accounts.",
    no_args_is_help=True,
)
_out = Console()


def _session(ctx: typer.Context) -> Session:
    session = ctx.find_object(Session)
    return session if session is not None else Session()


def _print(info: DevnetInfo | None, as_json: bool, extra: dict[str, object] | None = None) -> None:
    if as_json:
        report = info.model_dump() if info else {"running": False}
        print_json({**report, **(extra or {})})
    elif info is None:
        _out.print("no devnet here: start one with `worldgym devnet up`")
    else:
        state = "[green]running[/]" if info.running else "[red]stopped[/]"
        block = f", block {info.block}" if info.block is not None else ""
        _out.print(f"devnet {state} at {info.url} (chain {info.chain_id}, pid {info.pid}{block})")
        _out.print(f"manifest: {info.manifest}")


def _address(settings: Settings, who: str) -> str:
    """A wallet name from the keystore, or an address (checksum checked)."""
    return account_address(settings, who, "address")


RefineryOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--refinery",
        help="a wallet (name or address) granted REFINERY_ROLE, so it may register models "
        "(repeatable)",
    ),
]


@app.command()
def up(  # noqa: PLR0917 - a Typer command: one parameter per option
    ctx: typer.Context,
    epoch_blocks: Annotated[
        int | None, typer.Option("--epoch-blocks", min=2, help="blocks per epoch (new chain only)")
    ] = None,
    block_time: Annotated[
        float, typer.Option("--block-time", min=0.0, help="seconds per block; 0 mines per tx")
    ] = 1.0,
    refinery: RefineryOpt = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65_535, help="port of a new chain (default: a free one)"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Start anvil on 127.0.0.1, deploy, fund dev accounts and wallets; safe to run twice.

    After `down`, `up` resumes the same chain on the same URL. Every keystore wallet is
    funded with ETH and WGT and bonded as a miner, now and on each later `up`.
    """
    session = _session(ctx)
    settings = session.settings
    refiners = [_address(settings, who) for who in refinery or []]
    wallets = [w.address for w in Keystore(settings.keystore_dir).list()]
    info = devnet_up(
        settings.data_dir,
        epoch_blocks=epoch_blocks,
        block_time=block_time or None,
        fund=wallets,
        refinery=refiners,
        port=port,
    )
    save_profile(
        "devnet",
        NetworkProfile(rpc_url=info.url, chain_id=DEVNET_CHAIN_ID),
        settings.config_path,
    )
    if as_json:
        _print(info, True, {"funded": wallets, "refinery": refiners})
        return
    _print(info, False)
    if wallets:
        _out.print(f"funded and bonded {len(wallets)} keystore wallet(s)")
    for who in refiners:
        _out.print(f"{who} holds REFINERY_ROLE (may register models)")


@app.command()
def status(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Whether the devnet runs, where, and at which block."""
    _print(devnet_status(_session(ctx).settings.data_dir), as_json)


@app.command()
def down(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Stop anvil by its pid; the chain and its URL are kept for the next `up`."""
    stopped = devnet_down(_session(ctx).settings.data_dir)
    if as_json:
        typer.echo(json.dumps({"stopped": stopped}))
    else:
        _out.print("devnet stopped" if stopped else "devnet was not running")


@app.command()
def reset(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Stop the devnet and forget its chain; the next `up` starts from genesis."""
    if not yes:
        typer.confirm("forget the devnet chain and its deployment?", abort=True)
    devnet_reset(_session(ctx).settings.data_dir)
    if as_json:
        typer.echo(json.dumps({"reset": True}))
    else:
        _out.print("devnet reset")


@app.command()
def fund(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(help="a wallet name or an address")],
    refinery: Annotated[
        bool, typer.Option("--refinery", help="also grant REFINERY_ROLE (may register models)")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Give an account 100 ETH and 100,000 WGT on the running devnet, and stake its miner bond."""
    session = _session(ctx)
    address = _address(session.settings, who)
    chain = _running_chain(session)
    fund_account(chain, address)
    granted = grant_refinery(chain, address) if refinery else False
    eth = int(chain.w3.eth.get_balance(Web3.to_checksum_address(address)))
    wgt, staked = chain.balance(address), chain.stake_of(address)
    role = chain.has_role(REFINERY_ROLE, address)
    if as_json:
        report = {"address": address, "eth": eth, "wgt": wgt, "stake": staked, "refinery": role}
        print_json(report)
        return
    _out.print(
        f"funded {address}: {format_wgt(eth, places=0, unit='ETH')}, {format_wgt(wgt)}, "
        f"{format_wgt(staked)} staked (the miners' bond)"
    )
    if granted or role:
        _out.print(f"{address} holds REFINERY_ROLE (may register models)")


def _running_chain(session: Session) -> DevChain:
    info = devnet_status(session.settings.data_dir)
    if info is None or not info.running:
        raise UsageError("the devnet is not running: `worldgym devnet up` first")
    w3 = Web3(Web3.HTTPProvider(info.url, request_kwargs={"timeout": 30}))
    deployment = load_devnet_deployment(session.settings.data_dir)
    return DevChain(w3, deployment, [str(a) for a in w3.eth.accounts])


def fund_new_wallet(info: WalletInfo, settings: Settings) -> dict[str, str]:
    """``wallet new`` / ``import`` hook: fund and bond the wallet if a devnet runs here."""
    if settings.network != "devnet":
        return {}
    running = devnet_status(settings.data_dir)
    if running is None or not running.running:
        return {
            "devnet": "not running: `worldgym devnet up` funds every keystore wallet "
            "(or `worldgym devnet fund NAME` later)"
        }
    w3 = Web3(Web3.HTTPProvider(running.url, request_kwargs={"timeout": 30}))
    chain = DevChain(w3, load_devnet_deployment(settings.data_dir), list(w3.eth.accounts))
    fund_account(chain, info.address)
    return {"devnet": f"funded with 100 ETH and {format_wgt(DEV_TOKEN_GRANT)}, miner bond staked"}


wallet_cli.register_after_create(fund_new_wallet)
