"""``worldgym env register | update | transfer | deactivate | withdraw-bond | list | show``.

The on-chain half of the ``env`` commands: they extend :data:`worldgym.cli.env.app`
with the environment creator's actions (signed with the wallet) and the
read-only views anyone can use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from worldgym.cli.env import app
from worldgym.cli.options import JsonOpt, PasswordFileOpt, WalletOpt, signer
from worldgym.cli.output import done, print_json
from worldgym.client.session import Session
from worldgym.core.amounts import format_wgt, wgt_cell
from worldgym.gym import registry
from worldgym.storage import ContentStore

__all__ = ["app"]

_out = Console(highlight=False, soft_wrap=True)
EnvIdArg = Annotated[int, typer.Argument(min=1, help="the environment's id")]
SpecFileArg = Annotated[Path, typer.Argument(help="spec file (YAML or JSON)", exists=True)]


def _session(ctx: typer.Context) -> Session:
    return ctx.find_object(Session) or Session()


def _store(ctx: typer.Context) -> ContentStore:
    return _session(ctx).store()


def _published(env_id: int, version: int, cid: str, as_json: bool) -> None:
    if as_json:
        print_json({"env_id": env_id, "version": version, "cid": cid})
    else:
        _out.print(f"environment {env_id} version {version}: spec {cid}")


@app.command()
def register(
    ctx: typer.Context,
    spec: SpecFileArg,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pin SPEC and register it on chain as a new environment, paying the bond."""
    env_id, cid = registry.register(signer(ctx, wallet, password_file), _store(ctx), spec)
    _published(env_id, 1, cid, as_json)


@app.command()
def update(
    ctx: typer.Context,
    env_id: EnvIdArg,
    spec: SpecFileArg,
    *,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Publish SPEC as a new version of ENV_ID (owner only)."""
    protocol = signer(ctx, wallet, password_file)
    version, cid = registry.publish_version(protocol, _store(ctx), env_id, spec)
    _published(env_id, version, cid, as_json)


@app.command()
def transfer(
    ctx: typer.Context,
    env_id: EnvIdArg,
    new_owner: Annotated[str, typer.Argument(help="the new owner's address")],
    *,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hand ENV_ID, its royalties and its bond to NEW_OWNER (owner only)."""
    protocol = signer(ctx, wallet, password_file)
    protocol.transfer_environment(env_id, new_owner)
    report = {"env_id": env_id, "owner": new_owner}
    done(as_json, report, f"environment {env_id} now belongs to {new_owner}")


@app.command()
def deactivate(
    ctx: typer.Context,
    env_id: EnvIdArg,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop ENV_ID from accepting batches; the bond unlocks after the release delay."""
    protocol = signer(ctx, wallet, password_file)
    protocol.deactivate_environment(env_id)
    done(as_json, {"env_id": env_id, "active": False}, f"environment {env_id} deactivated")


@app.command("withdraw-bond")
def withdraw_bond(
    ctx: typer.Context,
    env_id: EnvIdArg,
    wallet: WalletOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recover the bond of a deactivated environment once its delay has passed."""
    protocol = signer(ctx, wallet, password_file)
    amount = protocol.withdraw_bond(env_id)
    line = f"bond of environment {env_id} returned: {format_wgt(amount)}"
    done(as_json, {"env_id": env_id, "returned": amount}, line)


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every registered environment: owner, versions, status, bond."""
    protocol = _session(ctx).protocol()
    records = [protocol.environment(i) for i in range(1, protocol.environment_count() + 1)]
    if as_json:
        print_json([_record(r) for r in records])
        return
    table = Table("id", "owner", "versions", "status", "bond (WGT)")
    for r in records:
        status = "active" if r.active else f"deactivated at block {r.deactivated_at}"
        bond = wgt_cell(r.bond)
        table.add_row(str(r.env_id), r.owner, str(r.version_count), status, bond)
    _out.print(table)


@app.command()
def show(ctx: typer.Context, env_id: EnvIdArg, as_json: JsonOpt = False) -> None:
    """An environment: owner, versions with their spec CIDs, bond, status and the latest spec."""
    session = _session(ctx)
    view = registry.view(session.protocol(), session.store(), env_id)
    data = {
        **_record(view.record),
        "versions": {str(i): cid for i, cid in enumerate(view.versions, start=1)},
        "spec": json.loads(view.spec.canonical_bytes()) if view.spec else None,
        "spec_error": view.spec_error,
    }
    if as_json:
        print_json(data)
        return
    r = view.record
    _out.print(f"[bold]environment {r.env_id}[/] owned by {r.owner}")
    _out.print(f"status: {'active' if r.active else 'deactivated'}; bond {format_wgt(r.bond)}")
    for version, cid in data["versions"].items():
        _out.print(f"  version {version}: {cid}")
    if view.spec is not None:
        _out.print(f"latest spec: {view.spec.name}: {view.spec.description}")
    else:
        _out.print(f"[red]latest spec unavailable:[/] {view.spec_error}")


def _record(r: Any) -> dict[str, Any]:
    return {
        "env_id": r.env_id,
        "owner": r.owner,
        "version_count": r.version_count,
        "active": r.active,
        "deactivated_at": r.deactivated_at,
        "bond": str(r.bond),
    }
