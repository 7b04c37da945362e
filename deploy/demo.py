"""``make demo``: a local network playing one WorldGym epoch end to end.

Starts anvil on a free loopback port, deploys the contracts, pins an example
environment's spec to the embedded store and registers it, stakes three
validators (one never reveals), has two miners submit batches, runs commit,
reveal and chunked finalization, lets everyone claim, prints who earned what,
and stops anvil. (Mining with a real model, validation of real traces and the
refinery join this script as they land.)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table
from web3 import Web3

from client.protocol_math import commitment, pack_scores
from deploy.anvil import AnvilProcess
from deploy.devchain import DevChain, Window
from gym.environments import example_path
from gym.loading import load_spec
from gym.registry import pin_spec
from storage import StoreSettings, open_store

__all__ = ["main"]

_WAD = 10**18


def _cid(label: str) -> bytes:
    return bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(label.encode()).digest()


def _wgt(amount: int) -> str:
    return f"{amount / _WAD:,.4f}"


def play_epoch(chain: DevChain, console: Console) -> None:
    """Run one epoch with dev accounts and print the payouts."""
    owner, miner_a, miner_b, *validators = chain.accounts[1:7]
    names = {owner: "env owner", miner_a: "miner A", miner_b: "miner B"}
    stakes = dict(zip(validators, (3_000 * _WAD, 1_000 * _WAD, 1_500 * _WAD), strict=True))
    for i, (v, stake) in enumerate(stakes.items()):
        names[v] = f"validator {'ABC'[i]}" + (" (never reveals)" if i == 2 else "")
        chain.stake_as(v, stake)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(StoreSettings(path=Path(tmp) / "store"))
        cid, binary = pin_spec(store, load_spec(example_path("arithmetic")))
    env_id = chain.register_environment_as(owner, binary)
    console.print(f"environment {env_id}: the example 'arithmetic' spec, pinned at {cid}")
    chain.send(chain.deployer, chain.models, "registerModel", _cid("base"), 0, b"", b"\0" * 32)
    epoch = chain.gym.functions.currentEpoch().call()
    batches = [(miner_a, 10), (miner_b, 20), (miner_a, 5)]
    for i, (miner, traces) in enumerate(batches):
        chain.send(miner, chain.gym, "submitBatch", env_id, 1, _cid(f"batch {i}"), traces, 1)
    console.print(f"epoch {epoch}: {len(batches)} batches submitted by 2 miners")

    scores = dict(
        zip(validators, ([10_000, 5_000, 0], [8_000, 5_000, 10_000], [1, 2, 3]), strict=True)
    )
    salts = {v: os.urandom(32) for v in validators}
    chain.mine_to(chain.window_opens(epoch, Window.COMMIT))
    for v in validators:
        chain.send(
            v, chain.gym, "commit", epoch, commitment(epoch, v, pack_scores(scores[v]), salts[v])
        )
    chain.mine_to(chain.window_opens(epoch, Window.REVEAL))
    for v in validators[:2]:
        chain.send(v, chain.gym, "reveal", epoch, pack_scores(scores[v]), salts[v])
    chain.mine_to(chain.window_opens(epoch, Window.FINALIZE))
    calls, gas = chain.finalize_all(epoch, chunk=4)
    consensus = [chain.gym.functions.consensusOf(epoch, i).call() for i in range(len(batches))]
    console.print(f"finalized in {calls} calls ({gas:,} gas); consensus scores {consensus}")

    table = Table(title=f"Epoch {epoch} rewards (WGT)")
    for col in ("account", "address", "claimed", "stake after"):
        table.add_column(col, justify="right" if col != "account" else "left")
    for account, name in names.items():
        amount = chain.gym.functions.claimable(account).call()
        if amount:
            chain.send(account, chain.gym, "claim")
        stake = chain.staking.functions.stakeOf(account).call()
        table.add_row(name, account[:10] + "…", _wgt(amount), _wgt(stake) if stake else "")
    console.print(table)
    carry = chain.gym.functions.carry().call()
    console.print(f"carried to later epochs (slash + rounding): {_wgt(carry)} WGT")


def main() -> None:
    """Entry point of ``python -m deploy.demo``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", action="store_true", help="leave anvil running at the end")
    args = parser.parse_args()
    console = Console()
    node = AnvilProcess().start()
    try:
        w3 = Web3(Web3.HTTPProvider(node.url))
        chain = DevChain.deploy(w3)
        console.print(f"[bold]WorldGym devnet[/] at {node.url} (chain {chain.deployment.chain_id})")
        for name, address in chain.deployment.addresses.by_contract().items():
            console.print(f"  {name:<20} {address}")
        play_epoch(chain, console)
    finally:
        if args.keep:
            console.print(
                f"anvil left running at {node.url} (pid {node.pid}); stop it with kill {node.pid}"
            )
        else:
            node.stop()


if __name__ == "__main__":
    main()
