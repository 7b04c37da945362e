"""Fixtures of the ledger tests: a played devnet history, its indexer, a CLI home for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledger_helpers import History, open_indexer, play_history

from worldgym.chain.manifest import manifest_path
from worldgym.deploy.anvil import AnvilProcess
from worldgym.deploy.devchain import DevChain
from worldgym.ledger.indexer import Indexer


@pytest.fixture
def history(chain: DevChain) -> History:
    """Two epochs played on a fresh chain (see ledger_helpers)."""
    return play_history(chain)


@pytest.fixture
def indexer(history: History, tmp_path: Path) -> Indexer:
    """An indexer of the history's chain into a fresh SQLite file (confirmations 0)."""
    opened: Indexer = open_indexer(history.chain, tmp_path / "ledger.sqlite")
    return opened


@pytest.fixture
def cli_home(
    history: History, anvil: AnvilProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A config whose devnet profile is the history's anvil, with its manifest in place."""
    data = tmp_path / "data"
    history.chain.deployment.save(manifest_path(data, history.chain.deployment.chain_id))
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "{data}"\n[networks.devnet]\nrpc_url = "{anvil.url}"\nchain_id = 31337\n'
    )
    monkeypatch.setenv("WORLDGYM_CONFIG", str(config))
    for var in ("WORLDGYM_NETWORK", "WORLDGYM_WALLET", "WORLDGYM_LEDGER__URL"):
        monkeypatch.delenv(var, raising=False)
    return data
