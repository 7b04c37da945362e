"""A deployed protocol on a local anvil, driven from its unlocked dev accounts.

Used by the devnet tooling, the demo, the gas benchmark and the tests: one
place that knows how to act as any dev account and move the chain forward.
"""

from __future__ import annotations

import hashlib
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from worldgym.chain.contracts import Protocol, Stage, Window
from worldgym.chain.manifest import Deployment, ProtocolParams
from worldgym.deploy.anvil import UnlockedSender
from worldgym.deploy.protocol import deploy_protocol

__all__ = ["DevChain", "Window", "raw_cid"]


def raw_cid(data: bytes) -> bytes:
    """Binary CIDv1 (raw codec, sha2-256) of a single-block document: handy for dev and tests."""
    return bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()


class DevChain(Protocol):
    """The protocol deployed on an anvil whose dev accounts are unlocked."""

    def __init__(self, w3: Web3, deployment: Deployment, accounts: list[str]) -> None:
        super().__init__(w3, deployment)
        self.accounts = accounts

    @classmethod
    def deploy(cls, w3: Web3, params: ProtocolParams | None = None) -> DevChain:
        """Deploy with dev account 0 as deployer and genesis holder."""
        accounts = [str(to_checksum_address(a)) for a in w3.eth.accounts]
        deployment = deploy_protocol(
            w3, UnlockedSender(w3, accounts[0]), params or ProtocolParams()
        )
        return cls(w3, deployment, accounts)

    @property
    def deployer(self) -> str:
        """Dev account 0: deployer, genesis holder, model registry admin."""
        return self.accounts[0]

    def as_account(self, account: str) -> Protocol:
        """The same deployment, sending as ``account``."""
        return Protocol(self.w3, self.deployment, UnlockedSender(self.w3, account))

    def send(self, account: str, contract: Contract, fn: str, *args: Any) -> TxReceipt:
        """Call ``fn`` on ``contract`` as ``account`` and return the receipt."""
        tx = {"to": contract.address, "data": contract.encode_abi(fn, args=list(args))}
        receipt: TxReceipt = UnlockedSender(self.w3, account).send(tx)
        return receipt

    def mine_to(self, block: int) -> None:
        """Mine empty blocks until the head is ``block``.

        Gas estimation runs against the head and the next transaction lands one
        block later, so both see a window that opens at ``block``.
        """
        gap = block - self.w3.eth.block_number
        if gap > 0:
            self.w3.provider.make_request("anvil_mine", [hex(gap)])  # type: ignore[arg-type]

    def window_opens(self, epoch: int, window: int) -> int:
        """First block of ``window`` of ``epoch``."""
        return self.window(epoch, Window(window))[0]

    def fund(self, account: str, amount: int) -> None:
        """Transfer tokens from the genesis holder to ``account``."""
        self.send(self.deployer, self.token, "transfer", account, amount)

    def stake_as(self, validator: str, amount: int) -> TxReceipt:
        """Fund ``validator`` and stake ``amount``; return the stake receipt."""
        self.fund(validator, amount)
        self.send(validator, self.token, "approve", self.staking.address, amount)
        return self.send(validator, self.staking, "stake", amount)

    def bond_miner_as(self, miner: str) -> int:
        """Fund and stake whatever ``miner`` lacks of the miners' bond; return the amount staked."""
        missing = self.miner_bond(miner).shortfall
        if missing:
            self.stake_as(miner, missing)
        return missing

    def register_environment_as(self, owner: str, spec_cid: bytes) -> int:
        """Fund the bond, register an environment as ``owner``; return its id."""
        bond = self.deployment.params.registration_bond
        self.fund(owner, bond)
        self.send(owner, self.token, "approve", self.registry.address, bond)
        receipt = self.send(owner, self.registry, "registerEnvironment", spec_cid)
        (event,) = self.registry.events.EnvironmentRegistered().process_receipt(
            receipt, errors=DISCARD
        )
        return int(event.args.envId)

    def finalize_all(self, epoch: int, chunk: int) -> tuple[int, int]:
        """Finalize ``epoch`` in calls of ``chunk`` steps; return (calls, total gas)."""
        calls = gas = 0
        while True:
            calls += 1
            gas += int(self.send(self.deployer, self.gym, "finalize", epoch, chunk)["gasUsed"])
            if self.finalization(epoch)[0] is Stage.FINALIZED:
                return calls, gas
