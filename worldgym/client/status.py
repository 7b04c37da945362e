"""``worldgym status``: where the network is in its epoch, and where an account stands."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address
from rich.console import Console
from rich.table import Table

from worldgym.chain.contracts import Window
from worldgym.client.session import Session
from worldgym.client.wallet import Keystore
from worldgym.core.amounts import format_wgt, wgt_cell
from worldgym.core.errors import UsageError
from worldgym.core.inputs import parse_address

__all__ = ["collect_status", "render_status"]


def _account(session: Session, address: str | None, wallet: str | None) -> str | None:
    if address is not None:
        return str(parse_address(address, "--address"))
    settings = session.settings
    wallets = Keystore(settings.keystore_dir)
    if wallet is not None or settings.wallet is not None:
        return str(wallets.find(wallet or settings.wallet or "").address)
    found = wallets.list()
    return str(found[0].address) if len(found) == 1 else None


def collect_status(
    session: Session, address: str | None, *, wallet: str | None = None
) -> dict[str, Any]:
    """Everything ``status`` shows, as plain data (what ``--json`` prints).

    The account is ``address``, else ``wallet`` (a name or address in the keystore), else the
    configured or only wallet; both are checked before the network is asked anything.
    """
    if address is not None and wallet is not None:
        raise UsageError("pass --address or --wallet, not both")
    chosen = _account(session, address, wallet) if (address or wallet) else None
    protocol = session.protocol()
    block = protocol.block_number()
    epoch = protocol.current_epoch()
    window = "submit"
    previous = epoch - 1
    if previous >= 0:
        for name, w in (("commit", Window.COMMIT), ("reveal", Window.REVEAL)):
            opens, closes = protocol.window(previous, w)
            if opens <= block < closes:
                window = f"submit (epoch {epoch}) + {name} (epoch {previous})"
    _, closes = protocol.window(epoch, Window.SUBMIT)
    report: dict[str, Any] = {
        "network": session.settings.network,
        "chain_id": protocol.deployment.chain_id,
        "block": block,
        "epoch": epoch,
        "window": window,
        "epoch_ends_at_block": closes,
        "worldgym": protocol.deployment.addresses.worldgym,
    }
    account = chosen
    if account is None:
        try:
            account = _account(session, None, None)
        except UsageError:
            account = None
    if account is not None:
        unbonding, release, pending = protocol.unbonding_of(account)
        report["account"] = {
            "address": account,
            "eth": int(protocol.w3.eth.get_balance(to_checksum_address(account))),
            "wgt": protocol.balance(account),
            "stake": protocol.stake_of(account),
            "unbonding": unbonding,
            "unbonding_release_epoch": release,
            "pending_commitments": pending,
            "claimable": protocol.claimable(account),
        }
    return report


def render_status(report: dict[str, Any], console: Console) -> None:
    """Print a report from :func:`collect_status` as a table."""
    table = Table(show_header=False, box=None)
    table.add_row("network", f"{report['network']} (chain {report['chain_id']})")
    table.add_row("block", str(report["block"]))
    table.add_row("epoch", f"{report['epoch']} (ends at block {report['epoch_ends_at_block']})")
    table.add_row("window", report["window"])
    account = report.get("account")
    if account:
        table.add_row("account", account["address"])
        table.add_row("ETH", wgt_cell(account["eth"]))
        for key in ("wgt", "stake", "unbonding", "claimable"):
            table.add_row(key.upper() if key == "wgt" else key, format_wgt(account[key]))
    console.print(table)
