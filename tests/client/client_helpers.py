"""Constants, helpers and fixtures shared by the client tests.

The fixtures are registered in a test module by importing them (``from
client_helpers import isolated_env_fixture  # noqa: F401``); they are not in a
``tests/client/conftest.py`` because ``tests/contracts`` imports helpers with
``from conftest import ...``, which a second ``conftest`` module would shadow.
The ``anvil`` fixture (a fresh node on a free loopback port, stopped by its pid
and checked gone) comes from ``tests/conftest.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from worldgym.chain.rpc import make_web3
from worldgym.chain.tx import TxSender
from worldgym.deploy.anvil import AnvilProcess, UnlockedSender

__all__ = [
    "DEV_ADDRESSES",
    "DEV_KEYS",
    "SINK",
    "deploy_reverter",
    "dev_account_fixture",
    "isolated_env_fixture",
    "node_w3_fixture",
    "reverter_initcode",
    "sender_fixture",
]

# anvil's first dev accounts (mnemonic "test test ... junk"): public test keys, never real funds.
DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
)
DEV_ADDRESSES = (
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
)
SINK = "0x" + "11" * 20  # an address nobody controls, to send value to


def reverter_initcode(revert_data: bytes) -> bytes:
    """Creation code of a contract whose every call reverts with ``revert_data``."""

    def u16(n: int) -> list[int]:
        return [n >> 8, n & 0xFF]

    size = len(revert_data)
    # runtime: CODECOPY(0, 14, size); REVERT(0, size); then the data (14 = this prefix's length)
    runtime = bytes([0x61, *u16(size), 0x60, 14, 0x60, 0, 0x39, 0x61, *u16(size), 0x60, 0, 0xFD])
    runtime += revert_data
    # init: CODECOPY(0, 14, len(runtime)); RETURN(0, len(runtime)); then the runtime
    init = bytes([0x61, *u16(len(runtime)), 0x60, 14, 0x60, 0, 0x39])
    init += bytes([0x61, *u16(len(runtime)), 0x60, 0, 0xF3])
    return init + runtime


def deploy_reverter(w3: Web3, revert_data: bytes) -> str:
    """Deploy (from dev account 0) a contract that always reverts with ``revert_data``."""
    receipt = UnlockedSender(w3, DEV_ADDRESSES[0]).send(
        {"data": reverter_initcode(revert_data), "gas": 300_000}
    )
    return str(receipt["contractAddress"])


@pytest.fixture(name="isolated_env", autouse=True)
def isolated_env_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No WORLDGYM_* variable from the caller; config and data under the test's tmp dir."""
    for name in list(os.environ):
        if name.startswith("WORLDGYM_") and name != "WORLDGYM_ANVIL":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("WORLDGYM_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("WORLDGYM_DATA_DIR", str(home / "data"))
    return home


@pytest.fixture(name="dev_account")
def dev_account_fixture() -> LocalAccount:
    """anvil's dev account 0, funded with 10 000 ETH at genesis."""
    account: LocalAccount = Account.from_key(DEV_KEYS[0])
    return account


@pytest.fixture(name="node_w3")
def node_w3_fixture(anvil: AnvilProcess) -> Web3:
    """A retrying Web3 on the test's anvil (few, short retries: a dead node fails fast)."""
    return make_web3(anvil.url, timeout_s=10, retries=2, backoff_s=0.02)


@pytest.fixture(name="sender")
def sender_fixture(node_w3: Web3, dev_account: LocalAccount) -> TxSender:
    """A TxSender for dev account 0."""
    return TxSender(node_w3, dev_account)
