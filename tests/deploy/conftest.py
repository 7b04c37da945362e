"""Fixtures for the deployment tests: a second anvil standing in for a remote network.

``remote`` is an anvil with its own chain id that the tests reach only by URL,
as they would an L2 testnet; ``deployer`` is a fresh key in an encrypted
keystore file, funded from one of anvil's dev accounts like a faucet would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_helpers import REMOTE_CHAIN_ID, KeyFile, fund_eth, make_keyfile
from web3 import Web3

from worldgym.deploy.anvil import AnvilProcess


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated config file and data dir, with no WORLDGYM_* variables leaking in."""
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    monkeypatch.setenv("WORLDGYM_CONFIG", str(config))
    for var in ("WORLDGYM_NETWORK", "WORLDGYM_WALLET", "WORLDGYM_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture
def remote() -> Iterator[AnvilProcess]:
    """A second anvil with chain id 424242, reached only by its URL."""
    with AnvilProcess(chain_id=REMOTE_CHAIN_ID) as node:
        yield node


@pytest.fixture
def remote_w3(remote: AnvilProcess) -> Web3:
    return Web3(Web3.HTTPProvider(remote.url, request_kwargs={"timeout": 30}))


@pytest.fixture
def deployer(remote_w3: Web3, tmp_path: Path) -> KeyFile:
    """A fresh deployer key in a keystore file, with 10 ETH on the remote chain."""
    keys = tmp_path / "keys"
    keys.mkdir()
    keyfile = make_keyfile(keys)
    fund_eth(remote_w3, keyfile.account.address, 10)
    return keyfile
