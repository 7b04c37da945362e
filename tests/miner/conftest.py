"""Fixtures: a devnet with a registered tiny model and environment, and a funded miner account."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

pytest.importorskip("torch")

from miner_world import World

from client.contracts import Protocol
from client.messages import protocol_decoder
from client.tx import TxSender
from deploy.devchain import DevChain
from gym.environments import example_path
from gym.loading import load_spec
from gym.registry import pin_spec
from policy.checkpoint import register_checkpoint
from policy.hf import TransformersPolicy
from policy.tiny import build_tiny_model
from storage import StoreSettings, open_store


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("model") / "tiny", seed=5)


@pytest.fixture(scope="session")
def policy(model_dir: Path) -> TransformersPolicy:
    return TransformersPolicy(model_dir, batch_size=8)


@pytest.fixture
def world(chain: DevChain, model_dir: Path, tmp_path: Path) -> World:
    store = open_store(StoreSettings(path=tmp_path / "store"))
    model = register_checkpoint(chain.as_account(chain.deployer), store, model_dir)
    owner = chain.accounts[1]
    _, spec_cid = pin_spec(store, load_spec(example_path("arithmetic")))
    env_id = chain.register_environment_as(owner, spec_cid)
    account: LocalAccount = Account.create()
    chain.w3.provider.make_request("anvil_setBalance", [account.address, hex(10**20)])  # type: ignore[arg-type]
    sender = TxSender(chain.w3, account, decoder=protocol_decoder())
    protocol = Protocol(chain.w3, chain.deployment, sender)
    return World(chain, store, model, env_id, account, protocol, sender, tmp_path)
