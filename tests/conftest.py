"""Shared fixtures: a fresh anvil per test on a free loopback port, and the deployed protocol."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract

from client.artifacts import load_artifact
from client.manifest import Deployment, ProtocolParams
from deploy.anvil import AnvilProcess, UnlockedSender, pid_alive
from deploy.protocol import deploy_protocol

WAD = 10**18


def raw_cid(data: bytes) -> bytes:
    """Binary CIDv1 (raw codec, sha2-256) of a single-block document."""
    return bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()


@dataclass
class Protocol:
    """A deployed protocol on an anvil, with helpers to act as any dev account."""

    w3: Web3
    deployment: Deployment
    accounts: list[str]

    def contract(self, name: str) -> Contract:
        address = self.deployment.addresses.by_contract()[name]
        return self.w3.eth.contract(address=to_checksum_address(address), abi=load_artifact(name).abi)

    @property
    def token(self) -> Contract:
        return self.contract("WorldGymToken")

    @property
    def registry(self) -> Contract:
        return self.contract("EnvironmentRegistry")

    @property
    def staking(self) -> Contract:
        return self.contract("Staking")

    @property
    def models(self) -> Contract:
        return self.contract("ModelRegistry")

    @property
    def gym(self) -> Contract:
        return self.contract("WorldGym")

    def send(self, account: str, contract: Contract, fn: str, *args: Any) -> Any:
        """Call ``fn`` on ``contract`` as ``account``; return the receipt."""
        sender = UnlockedSender(self.w3, account)
        return sender.send({"to": contract.address, "data": contract.encode_abi(fn, args=list(args))})

    def mine_to(self, block: int) -> None:
        """Mine empty blocks until the chain head is ``block``.

        Gas estimation runs against the head, and the next transaction lands one block later,
        so both see a window that opens at ``block``.
        """
        gap = block - self.w3.eth.block_number
        if gap > 0:
            self.w3.provider.make_request("anvil_mine", [hex(gap)])  # type: ignore[arg-type]

    def fund(self, account: str, amount: int) -> None:
        """Transfer tokens from the deployer (genesis holder) to ``account``."""
        self.send(self.accounts[0], self.token, "transfer", account, amount)


@pytest.fixture
def anvil() -> Iterator[AnvilProcess]:
    """A fresh anvil on 127.0.0.1:<free port>, stopped by its pid afterwards."""
    node = AnvilProcess().start()
    pid = node.pid
    try:
        yield node
    finally:
        node.stop()
        assert pid is not None and not pid_alive(pid), "anvil survived its test"


@pytest.fixture
def w3(anvil: AnvilProcess) -> Web3:
    return Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 30}))


@pytest.fixture
def protocol_params() -> ProtocolParams:
    return ProtocolParams()


@pytest.fixture
def protocol(w3: Web3, protocol_params: ProtocolParams) -> Protocol:
    """The contracts deployed with ``protocol_params`` by dev account 0 (genesis holder)."""
    accounts = [to_checksum_address(a) for a in w3.eth.accounts]
    deployment = deploy_protocol(w3, UnlockedSender(w3, accounts[0]), protocol_params)
    return Protocol(w3, deployment, accounts)


def anvil_processes() -> list[str]:
    """Command lines of running anvil processes (to check that tests leave none behind)."""
    out = subprocess.run(["pgrep", "-a", "anvil"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()
