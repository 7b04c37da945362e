"""Shared fixtures: a fresh anvil per test on a free loopback port, and the deployed protocol."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from worldgym.chain.manifest import ProtocolParams
from worldgym.deploy.anvil import AnvilProcess, pid_alive
from worldgym.deploy.devchain import DevChain


@pytest.fixture
def anvil() -> Iterator[AnvilProcess]:
    """A fresh anvil on 127.0.0.1:<free port>, stopped by its pid afterwards."""
    node = AnvilProcess().start()
    pid = node.pid
    try:
        yield node
    finally:
        node.stop()
        assert pid is not None
        assert not pid_alive(pid), "anvil survived its test"


@pytest.fixture
def w3(anvil: AnvilProcess) -> Web3:
    return Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 30}))


@pytest.fixture
def protocol_params() -> ProtocolParams:
    return ProtocolParams()


@pytest.fixture
def chain(w3: Web3, protocol_params: ProtocolParams) -> DevChain:
    """The contracts deployed with ``protocol_params`` by dev account 0 (genesis holder)."""
    return DevChain.deploy(w3, protocol_params)


def anvil_processes() -> list[str]:
    """Command lines of running anvil processes (to check that tests leave none behind)."""
    out = subprocess.run(["pgrep", "-a", "anvil"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()


# ─── a tiny model and a mining world (need the ml extra; skip cleanly without it) ──


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny byte-level Llama made locally (no download).

    Initialised sharply (like a trained model, its next-token distributions
    are far from uniform), so that text it did not write is measurably
    unlikely under it: a near-uniform model finds every text equally likely.
    """
    pytest.importorskip("torch")
    from worldgym.policy.tiny import TinyModelConfig, build_tiny_model

    sharp = TinyModelConfig(initializer_range=0.3)
    return build_tiny_model(tmp_path_factory.mktemp("model") / "tiny", seed=5, config=sharp)


@pytest.fixture(scope="session")
def sums_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model warmed up on the ``sums`` example's format (~10% pass@1), built once.

    For tests that need a base model that is sometimes right on a real
    environment: one whose verifier uses the reference, as every validator and
    the refinery require.
    """
    pytest.importorskip("torch")
    from worldgym.gym import load_environment
    from worldgym.gym.environment import load_spec
    from worldgym.gym.environments import example_path
    from worldgym.refinery.pretrain import pretrain_tiny

    sums = load_environment(load_spec(example_path("sums")))
    return pretrain_tiny(tmp_path_factory.mktemp("sums-model") / "base", sums).out_dir


@pytest.fixture(scope="session")
def policy(model_dir: Path) -> Any:
    """The tiny model behind the transformers backend."""
    from worldgym.policy.hf import TransformersPolicy

    return TransformersPolicy(model_dir, batch_size=8)


@pytest.fixture
def world(chain: DevChain, model_dir: Path, tmp_path: Path) -> Any:
    """A devnet with the tiny model and the arithmetic example registered, and a miner key."""
    from worlds import make_world

    return make_world(chain, model_dir, tmp_path)
