"""``worldgym deploy``: the contracts on any EVM network, verified, with a manifest.

::

    worldgym deploy --rpc https://sepolia.base.org --keystore deployer.json \\
        --params deploy/params/public-testnet.toml --profile basesep --save-profile

Checks the chain (Cancun opcodes) and the deployer's funds, shows the plan and
asks before sending (``--yes`` skips the question, ``--dry-run`` stops there),
deploys and wires the contracts with progress, verifies the code and wiring on
chain, then writes the manifest to ``<data_dir>/deployments/<chain_id>.json``
(or the profile's ``manifest``) and prints the profile to add.
``--verify-only`` checks an existing manifest against the chain instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import tomli_w
import typer
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from web3 import Web3
from web3.types import TxReceipt

from worldgym.chain.manifest import Deployment, ProtocolParams, manifest_path
from worldgym.chain.messages import protocol_decoder
from worldgym.chain.rpc import check_chain_id, make_web3
from worldgym.chain.tx import TxSender
from worldgym.cli.options import JsonOpt, PasswordFileOpt, WalletOpt
from worldgym.cli.output import print_json
from worldgym.client.config import NetworkProfile, save_profile
from worldgym.client.session import Session
from worldgym.client.wallet import open_wallet
from worldgym.core.amounts import format_wgt
from worldgym.core.errors import UsageError
from worldgym.core.inputs import parse_address
from worldgym.deploy.network import (
    DeployPlan,
    deploy_to_network,
    manifest_target,
    open_keystore_file,
    plan_deployment,
    refuse_existing,
    set_aside,
)
from worldgym.deploy.params_file import PRESETS, load_params, params_summary
from worldgym.deploy.verify import VerificationReport, verify_deployment

__all__ = ["deploy"]

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

RpcOpt = Annotated[
    str | None,
    typer.Option("--rpc", help="the network's JSON-RPC URL (default: the active profile's)"),
]
KeystoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--keystore", help="the deployer's encrypted v3 keystore file (geth, foundry, worldgym)"
    ),
]
ParamsOpt = Annotated[
    Path | None,
    typer.Option("--params", help="TOML or JSON file of protocol parameters (over the preset)"),
]
PresetOpt = Annotated[
    str | None,
    typer.Option("--preset", help=f"{' or '.join(PRESETS)} (default: the file's, else public)"),
]
RecipientOpt = Annotated[
    str | None,
    typer.Option("--genesis-recipient", help="who gets the genesis supply (default: deployer)"),
]
RefineryOpt = Annotated[
    list[str] | None,
    typer.Option("--refinery", help="address to grant the model registry's refinery role"),
]
ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", help="the network profile's name (default: chain<ID>)"),
]
SaveOpt = Annotated[
    bool, typer.Option("--save-profile", help="write the profile into the config file")
]
ManifestOpt = Annotated[
    Path | None,
    typer.Option("--manifest", help="the manifest to write (or, with --verify-only, to check)"),
]


def deploy(  # noqa: PLR0917 - a Typer command: one parameter per option
    ctx: typer.Context,
    rpc: RpcOpt = None,
    keystore: KeystoreOpt = None,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    params_file: ParamsOpt = None,
    preset: PresetOpt = None,
    genesis_recipient: RecipientOpt = None,
    refinery: RefineryOpt = None,
    profile: ProfileOpt = None,
    save: SaveOpt = False,
    manifest: ManifestOpt = None,
    force: Annotated[bool, typer.Option("--force", help="replace this chain's manifest")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check and price only")] = False,
    verify_only: Annotated[
        bool, typer.Option("--verify-only", help="verify the existing manifest on chain")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask before sending")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Deploy the contracts to any EVM network, verify them on chain, write the manifest."""
    session: Session = ctx.ensure_object(Session)
    refiners = tuple(_address(a, "--refinery") for a in refinery or ())
    recipient = _address(genesis_recipient, "--genesis-recipient") if genesis_recipient else None
    params = None if verify_only else load_params(params_file, preset=preset)  # before any I/O
    url, w3, name = _connect(session, rpc, profile)
    chain_id = int(w3.eth.chain_id)
    name = name or f"chain{chain_id}"
    if manifest is not None:
        target = manifest.expanduser().resolve()
    else:
        target = manifest_target(session.settings, chain_id, name)
    if params is None:
        report = verify_deployment(w3, Deployment.load(target), refiners=refiners)
        _show_report(report, target, as_json)
        report.raise_for_failures()
        return
    refuse_existing(target, force=force)  # before a password is asked
    account = _account(session, keystore, wallet, password_file)
    sender = TxSender(w3, account, decoder=protocol_decoder())
    plan = plan_deployment(w3, sender, params, refiners)
    if dry_run:
        _show_plan(plan, params, as_json, dry_run=True)
        return
    plan.require_funds()
    if not as_json:
        _show_plan(plan, params, as_json=False, dry_run=False)
    if not yes:
        typer.confirm(f"send {len(plan.steps)} transactions on chain {chain_id}?", abort=True)
    deployment, gas_used = _deploy(
        w3, sender, params, plan, recipient=recipient, refiners=refiners, quiet=as_json
    )
    report = verify_deployment(w3, deployment, refiners=refiners)
    if not report.ok:
        kept = target.with_name(f"{target.stem}.unverified.json")
        deployment.save(kept)
        report.raise_for_failures(note=f"the manifest was kept at {kept}")
    replaced = set_aside(target)
    deployment.save(target)
    custom = target != manifest_path(session.settings.data_dir, chain_id)
    net = NetworkProfile(rpc_url=url, chain_id=chain_id, manifest=target if custom else None)
    config = save_profile(name, net, session.settings.config_path) if save else None
    result = {
        "manifest": str(target),
        "replaced": str(replaced) if replaced else None,
        "gas_used": gas_used,
        "deployment": deployment.model_dump(mode="json", by_alias=True),
        "verification": report.as_dict(),
        "profile": {"name": name, **net.model_dump(mode="json", exclude_none=True)},
        "profile_saved_to": str(config) if config else None,
    }
    if as_json:
        print_json(result)
    else:
        _show_result(session, report, result, net, name)


def _connect(
    session: Session, rpc: str | None, profile: str | None
) -> tuple[str, Web3, str | None]:
    """(URL, connection, profile name): ``--rpc``, else the active profile (chain id checked)."""
    if rpc is not None:
        if not rpc.startswith(("http://", "https://")):
            raise UsageError(f"--rpc {rpc!r} is not an http:// or https:// URL")
        return rpc, make_web3(rpc, hint="check the --rpc URL and that the node is up"), profile
    settings = session.settings
    name = profile or settings.network
    configured = settings.profile(name)
    w3 = make_web3(configured.rpc_url, hint=f"check networks.{name}.rpc_url, or pass --rpc")
    check_chain_id(w3, configured.chain_id, profile=name)
    return configured.rpc_url, w3, name


def _address(value: str, option: str) -> str:
    return str(parse_address(value, option))


def _account(
    session: Session, keystore: Path | None, wallet: str | None, password_file: Path | None
) -> LocalAccount:
    if keystore is not None and wallet is not None:
        raise UsageError("pass --keystore FILE or --wallet NAME, not both")
    if keystore is not None:
        return open_keystore_file(keystore, password_file, session.prompt)
    return open_wallet(session.settings, wallet, password_file=password_file, prompt=session.prompt)


def _deploy(
    w3: Web3,
    sender: TxSender,
    params: ProtocolParams,
    plan: DeployPlan,
    *,
    recipient: str | None,
    refiners: tuple[str, ...],
    quiet: bool,
) -> tuple[Deployment, int]:
    """Send every step with a progress bar (none when ``quiet``); return the manifest and gas."""
    gas = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=_err, disable=quiet, transient=True) as progress:
        task = progress.add_task("deploying", total=len(plan.steps))

        def on_step(label: str, receipt: TxReceipt) -> None:
            nonlocal gas
            gas += int(receipt["gasUsed"])
            created = receipt.get("contractAddress")
            where = f" at {created}" if created else ""
            if not quiet:
                progress.console.print(
                    f"  {label}{where} (block {receipt['blockNumber']}, {receipt['gasUsed']:,} gas)"
                )
            progress.advance(task)

        deployment = deploy_to_network(
            w3, sender, params, genesis_recipient=recipient, refiners=refiners, on_step=on_step
        )
    return deployment, gas


def _show_plan(plan: DeployPlan, params: ProtocolParams, as_json: bool, *, dry_run: bool) -> None:
    if as_json:
        doc = {"plan": plan.as_dict(), "params": params.model_dump(mode="json")}
        print_json(doc)
        return
    funded = plan.balance_wei >= plan.cost_bound_wei
    _out.print(
        f"chain {plan.chain_id} · deployer {plan.deployer} · balance "
        f"{format_wgt(plan.balance_wei, places=6, unit='ETH')}"
    )
    for line in params_summary(params, block_time_s=plan.block_time_s):
        _out.print(f"  {line}")
    cost = format_wgt(plan.cost_bound_wei, places=6, unit="ETH")
    _out.print(
        f"{len(plan.steps)} transactions, at most {plan.gas_bound:,} gas × "
        f"{plan.fee_per_gas_wei / 1e9:g} gwei = {cost}"
        + ("" if funded else " [red](more than the balance)[/]")
    )
    if dry_run:
        _out.print("dry run: nothing was sent")


def _show_report(report: VerificationReport, target: Path, as_json: bool) -> None:
    if as_json:
        print_json({"manifest": str(target), **report.as_dict()})
        return
    for check in report.checks:
        mark = "[green]ok[/]  " if check.ok else "[red]FAIL[/]"
        _out.print(f"{mark} {check.contract} {check.what}: {check.detail}")
    _out.print(_verdict(report))


def _verdict(report: VerificationReport) -> str:
    n = len(report.checks)
    if report.ok:
        return f"verified: all {n} checks passed (code, immutables, parameters, roles)"
    return f"[red]{len(report.failures)} of {n} checks failed[/]"


def _show_result(
    session: Session,
    report: VerificationReport,
    result: dict[str, Any],
    net: NetworkProfile,
    name: str,
) -> None:
    _out.print(_verdict(report))
    _out.print(f"manifest: {result['manifest']}")
    if result["replaced"]:
        _out.print(f"the previous manifest was kept as {result['replaced']}")
    if result["profile_saved_to"]:
        _out.print(f"profile {name!r} saved to {result['profile_saved_to']}")
    else:
        where = session.settings.config_path or "your config file"
        snippet = tomli_w.dumps(
            {"networks": {name: net.model_dump(mode="json", exclude_none=True)}}
        )
        _out.print(f"add this profile to {where} (or rerun with --save-profile):\n")
        _out.print(snippet, markup=False)
    _out.print(f"then: worldgym --network {name} status")
