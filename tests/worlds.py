"""The world miner and validator tests run in: a devnet, a store, a registered model and env.

Importing this module needs the ml extra (torch); the fixtures in
``tests/conftest.py`` skip cleanly without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from rich.console import Console

from worldgym.chain.contracts import Protocol
from worldgym.chain.messages import protocol_decoder
from worldgym.chain.tx import TxSender
from worldgym.client.wallet import Keystore
from worldgym.deploy.devchain import DevChain
from worldgym.gym.environment import load_spec
from worldgym.gym.environments import example_path
from worldgym.gym.registry import pin_spec
from worldgym.miner import Miner, MiningConfig, Spool, Submitter
from worldgym.policy.checkpoint import ModelHandle, register_checkpoint
from worldgym.policy.hf import TransformersPolicy
from worldgym.storage import ContentStore, StoreSettings, open_store

__all__ = ["World", "make_world", "signing_account", "write_config"]


@dataclass
class World:
    """Everything a miner test touches."""

    chain: DevChain
    store: ContentStore
    model: ModelHandle
    env_id: int
    account: LocalAccount
    protocol: Protocol
    sender: TxSender
    root: Path

    def spool(self) -> Spool:
        return Spool(self.root / "spool")

    def miner(
        self, policy: TransformersPolicy, store: ContentStore | None = None, **config: object
    ) -> tuple[Miner, Spool]:
        spool = self.spool()
        submitter = Submitter(self.protocol, self.sender, store or self.store, spool)
        settings = MiningConfig(
            env_ids=(self.env_id,),
            **{"tasks_per_batch": 3, **config},  # type: ignore[arg-type]
        )
        miner = Miner(
            self.protocol,
            submitter,
            spool,
            policy=policy,
            model=self.model,
            config=settings,
            console=Console(quiet=True),
            spec_store=self.store,
            sleep=lambda _s: None,
        )
        return miner, spool


def signing_account(chain: DevChain) -> tuple[LocalAccount, TxSender, Protocol]:
    """A fresh key with ETH for gas, its signing sender and a Protocol that sends with it."""
    account: LocalAccount = Account.create()
    chain.w3.provider.make_request("anvil_setBalance", [account.address, hex(10**20)])  # type: ignore[arg-type]
    sender = TxSender(chain.w3, account, decoder=protocol_decoder())
    return account, sender, Protocol(chain.w3, chain.deployment, sender)


def make_world(
    chain: DevChain,
    model_dir: Path,
    root: Path,
    env: str = "arithmetic",
    *,
    max_tokens: int = 12,
    group_size: int = 2,
) -> World:
    """Register ``model_dir`` and the example ``env`` on ``chain``; a fresh miner account.

    The environment's token budget and group size are made small for the tiny model.
    """
    store = open_store(StoreSettings(path=root / "store"))
    model = register_checkpoint(chain.as_account(chain.deployer), store, model_dir)
    spec = load_spec(example_path(env))
    small = spec.model_copy(update={"max_tokens": max_tokens, "group_size": group_size})
    _, spec_cid = pin_spec(store, small)
    env_id = chain.register_environment_as(chain.accounts[1], spec_cid)
    account, sender, protocol = signing_account(chain)
    chain.fund(account.address, chain.deployment.params.miner_stake)
    protocol.bond_miner()  # miners need a bond to submit
    return World(chain, store, model, env_id, account, protocol, sender, root)


def write_config(world: World, anvil_url: str, password: str) -> Path:
    """A config file for the real CLI on ``world``'s chain, with the miner key in its keystore."""
    root: Path = world.root
    manifest = root / "manifest.json"
    world.chain.deployment.save(manifest)
    config: Path = root / "config.toml"
    config.write_text(
        f'data_dir = "{root / "data"}"\nnetwork = "test"\n'
        f'[networks.test]\nrpc_url = "{anvil_url}"\nchain_id = {world.chain.deployment.chain_id}\n'
        f'manifest = "{manifest}"\n[storage]\npath = "{root / "store"}"\n'
    )
    Keystore(root / "data" / "keystore").import_key(world.account.key, password, light_kdf=True)
    return config
