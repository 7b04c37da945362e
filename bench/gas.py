"""Gas per protocol call, measured from real receipts on anvil (``make gas``).

Prints ``<contract>.<function> <gas>  <scenario>`` lines, then the targets:
submitBatch <= 120k whatever the trace count; finalize <= 80k per batch at 16
validators (amortized over a chunk); reveal <= 2.5k per batch beyond a fixed base.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_utils import to_checksum_address  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.contract import Contract  # noqa: E402

from client.artifacts import load_artifact  # noqa: E402
from client.manifest import ProtocolParams  # noqa: E402
from client.protocol_math import commitment, pack_scores  # noqa: E402
from deploy.anvil import AnvilProcess, UnlockedSender  # noqa: E402
from deploy.protocol import deploy_protocol  # noqa: E402

WAD = 10**18
PARAMS = ProtocolParams(
    epoch_length=400,
    commit_blocks=100,
    reveal_blocks=100,
    max_batches_per_miner=1024,
    max_batches_per_epoch=1024,
    min_stake=1 * WAD,
)


def cid(i: int) -> bytes:
    return bytes([1, 0x55, 0x12, 0x20]) + hashlib.sha256(str(i).encode()).digest()


class Net:
    """A fresh deployment on a shared anvil, with the calls the scenarios need."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.accounts = [to_checksum_address(a) for a in w3.eth.accounts]
        self.deployer = self.accounts[0]
        dep = deploy_protocol(w3, UnlockedSender(w3, self.deployer), PARAMS)
        self.c: dict[str, Contract] = {
            name: w3.eth.contract(address=addr, abi=load_artifact(name).abi)
            for name, addr in dep.addresses.by_contract().items()
        }
        self.send("WorldGymToken", self.deployer, "approve", self.c["EnvironmentRegistry"].address, 2**255)
        self.last_gas = {"registerEnvironment": self.send(
            "EnvironmentRegistry", self.deployer, "registerEnvironment", cid(0)
        )}
        self.last_gas["registerModel"] = self.send(
            "ModelRegistry", self.deployer, "registerModel", cid(1), 0, b"", b"\0" * 32
        )

    def send(self, name: str, account: str, fn: str, *args: Any) -> int:
        contract = self.c[name]
        tx = {"to": contract.address, "data": contract.encode_abi(fn, args=list(args))}
        return int(UnlockedSender(self.w3, account).send(tx)["gasUsed"])

    def view(self, name: str, fn: str, *args: Any) -> Any:
        return getattr(self.c[name].functions, fn)(*args).call()

    def mine_to(self, block: int) -> None:
        gap = block - self.w3.eth.block_number
        if gap > 0:
            self.w3.provider.make_request("anvil_mine", [hex(gap)])  # type: ignore[arg-type]

    def window(self, epoch: int, which: int) -> int:
        return int(self.view("WorldGym", "windowOf", epoch, which)[0])

    def stake(self, validator: str, amount: int) -> int:
        self.send("WorldGymToken", self.deployer, "transfer", validator, amount)
        self.send("WorldGymToken", validator, "approve", self.c["Staking"].address, amount)
        return self.send("Staking", validator, "stake", amount)


def scenario_epoch(
    w3: Web3, batches: int, validators: int, chunk: int | None, report: Callable[..., None]
) -> tuple[int, int]:
    """Submit ``batches``, let ``validators`` commit and reveal, finalize; return (reveal gas, finalize gas)."""
    net = Net(w3)
    miner = net.accounts[1]
    vals = net.accounts[2 : 2 + validators]
    for v in vals:
        net.stake(v, 10 * WAD)
    epoch = net.view("WorldGym", "currentEpoch")
    for i in range(batches):
        net.send("WorldGym", miner, "submitBatch", 1, 1, cid(100 + i), 64, 1)
    rng = random.Random(batches * 100 + validators)
    scores = {v: [rng.randrange(0, 10_001) for _ in range(batches)] for v in vals}
    salts = {v: os.urandom(32) for v in vals}
    net.mine_to(net.window(epoch, 1))
    for v in vals:
        net.send("WorldGym", v, "commit", epoch, commitment(epoch, v, pack_scores(scores[v]), salts[v]))
    net.mine_to(net.window(epoch, 2))
    reveal_gas = [net.send("WorldGym", v, "reveal", epoch, pack_scores(scores[v]), salts[v]) for v in vals]
    net.mine_to(net.window(epoch, 3))
    steps = batches * 2 + 1 + validators
    total = 0
    step = chunk or steps
    done = False
    while not done:
        total += net.send("WorldGym", net.deployer, "finalize", epoch, step)
        done = net.view("WorldGym", "finalization", epoch)[0] == 4
    return max(reveal_gas), total


def main() -> None:
    lines: list[str] = []

    def report(call: str, gas: int, scenario: str) -> None:
        line = f"{call:<34} {gas:>10,}  {scenario}"
        lines.append(line)
        print(line, flush=True)

    with AnvilProcess(accounts=24) as node:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
        net = Net(w3)
        report("EnvironmentRegistry.registerEnvironment", net.last_gas["registerEnvironment"], "bond pulled")
        report("ModelRegistry.registerModel", net.last_gas["registerModel"], "base model")
        report("Staking.stake", net.stake(net.accounts[5], 10 * WAD), "first stake")
        report("Staking.stake", net.stake(net.accounts[5], 10 * WAD), "adding to a stake")
        miner, other = net.accounts[1], net.accounts[2]
        first = net.send("WorldGym", miner, "submitBatch", 1, 1, cid(10), 1, 1)
        report("WorldGym.submitBatch", first, "worst case: first batch of the epoch (pokes the seed) by a new miner")
        for traces in (1, 64, 4096):
            gas = net.send("WorldGym", other, "submitBatch", 1, 1, cid(20 + traces), traces, 1)
            who = "a new miner's first batch" if traces == 1 else "the same miner again"
            report("WorldGym.submitBatch", gas, f"{who}, {traces} traces")
        gas = net.send("WorldGym", miner, "submitBatch", 1, 1, cid(30), 4096, 1)
        report("WorldGym.submitBatch", gas, "miner's second batch, 4096 traces")

        reveals: dict[int, int] = {}
        for batches in (1, 16, 64, 256):
            reveal_gas, _ = scenario_epoch(w3, batches, 1, None, report)
            reveals[batches] = reveal_gas
            report("WorldGym.reveal", reveal_gas, f"{batches} batches scored")
        slope = (reveals[256] - reveals[16]) / 240
        report("WorldGym.reveal", round(slope), "per batch beyond the base (256 vs 16 batches)")

        per_batch_16 = 0.0
        for validators in (1, 4, 16):
            for chunk in (None, 33):
                _, total = scenario_epoch(w3, 64, validators, chunk, report)
                per_batch = total / 64
                how = "one call" if chunk is None else f"chunks of {chunk} steps"
                report("WorldGym.finalize", round(per_batch), f"per batch, 64 batches, {validators} validators, {how}")
                if validators == 16 and chunk is None:
                    per_batch_16 = per_batch

        net = Net(w3)
        net.stake(net.accounts[3], 10 * WAD)
        epoch = net.view("WorldGym", "currentEpoch")
        net.send("WorldGym", net.accounts[1], "submitBatch", 1, 1, cid(7), 8, 1)
        net.mine_to(net.window(epoch, 1))
        salt = os.urandom(32)
        gas = net.send("WorldGym", net.accounts[3], "commit", epoch, commitment(epoch, net.accounts[3], pack_scores([9000]), salt))
        report("WorldGym.commit", gas, "first commitment of the epoch")
        net.mine_to(net.window(epoch, 2))
        net.send("WorldGym", net.accounts[3], "reveal", epoch, pack_scores([9000]), salt)
        net.mine_to(net.window(epoch, 3))
        net.send("WorldGym", net.deployer, "finalize", epoch, 100)
        report("WorldGym.claim", net.send("WorldGym", net.accounts[1], "claim"), "miner")

    print()
    sb = max(int(line.split()[1].replace(",", "")) for line in lines if line.startswith("WorldGym.submitBatch"))
    print(f"targets: submitBatch max {sb:,} <= 120,000: {'ok' if sb <= 120_000 else 'MISSED'}")
    print(f"         finalize per batch @16 validators {per_batch_16:,.0f} <= 80,000: "
          f"{'ok' if per_batch_16 <= 80_000 else 'MISSED'}")
    print(f"         reveal per batch {slope:,.0f} <= 2,500: {'ok' if slope <= 2_500 else 'MISSED'}")


if __name__ == "__main__":
    main()
