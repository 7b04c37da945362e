"""Fixtures for the CLI tests: an isolated config and data dir per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from worldgym.deploy.devnet import devnet_down


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated config file and data dir; whatever devnet the test starts is stopped."""
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    monkeypatch.setenv("WORLDGYM_CONFIG", str(config))
    for var in ("WORLDGYM_NETWORK", "WORLDGYM_WALLET", "WORLDGYM_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    yield tmp_path
    devnet_down(tmp_path / "data")
