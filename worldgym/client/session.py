"""What every command needs, built once per invocation: settings, a connection, a wallet.

The root ``worldgym`` callback puts a :class:`Session` in the Typer context;
sub-commands take what they need from it. Nothing touches the network until a
command asks for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from web3 import Web3

from worldgym.chain.contracts import Protocol
from worldgym.chain.manifest import Deployment
from worldgym.chain.messages import protocol_decoder
from worldgym.chain.rpc import check_chain_id, make_web3
from worldgym.chain.tx import TxSender
from worldgym.client.config import Settings, env_var, load_settings
from worldgym.client.keylock import KeyLock, lock_path
from worldgym.client.wallet import open_wallet, select_wallet
from worldgym.core.errors import ConfigError
from worldgym.storage import ContentStore, StoreSettings, open_store

__all__ = ["Session", "connect"]


def connect(
    settings: Settings,
    network: str | None = None,
    *,
    timeout_s: float = 30.0,
    retries: int = 4,
    backoff_s: float = 0.1,
    check: bool = True,
) -> Web3:
    """Connect to profile ``network`` (default: the active one); check its chain id."""
    name = network or settings.network
    profile = settings.profile(name)
    where = settings.config_path or "the config file"
    hint = (
        f"is the node running? check networks.{name}.rpc_url in {where} "
        f"(or {env_var('networks', name, 'rpc_url')})"
    )
    if name == "devnet":
        hint += ", or start it with `worldgym devnet up`"
    w3 = make_web3(
        profile.rpc_url, timeout_s=timeout_s, retries=retries, backoff_s=backoff_s, hint=hint
    )
    if check:
        check_chain_id(w3, profile.chain_id, profile=name)
    return w3


@dataclass
class Session:
    """Global options of one command line, and the objects derived from them (lazily)."""

    config_path: Path | None = None
    network: str | None = None
    prompt: Callable[[str], str] | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _w3: Web3 | None = field(default=None, repr=False)
    _store: ContentStore | None = field(default=None, repr=False)
    _locks: list[KeyLock] = field(default_factory=list, repr=False)

    @property
    def settings(self) -> Settings:
        """The settings (config file + environment), with ``--network`` applied."""
        if self._settings is None:
            settings = load_settings(self.config_path)
            self._settings = settings.select(self.network) if self.network else settings
        return self._settings

    def web3(self) -> Web3:
        """A connection to the active network's RPC (chain id checked)."""
        if self._w3 is None:
            self._w3 = connect(self.settings)
        return self._w3

    def deployment(self) -> Deployment:
        """The active network's deployment manifest."""
        settings = self.settings
        deployment = Deployment.load(settings.manifest_path())
        expected = settings.profile().chain_id
        if deployment.chain_id != expected:
            raise ConfigError(
                f"the manifest {settings.manifest_path()} is for chain {deployment.chain_id}, "
                f"but network {settings.network!r} is chain {expected}: redeploy or fix the profile"
            )
        return deployment

    @property
    def storage(self) -> StoreSettings:
        """The storage settings, the local store defaulting to ``<data_dir>/store``."""
        settings = self.settings.storage
        if settings.path is None:
            settings = settings.model_copy(update={"path": self.settings.data_dir / "store"})
        return settings

    def store(self) -> ContentStore:
        """The configured content store (the embedded one by default)."""
        if self._store is None:
            self._store = open_store(self.storage)
        return self._store

    def protocol(self, *, wallet: str | None = None, password_file: Path | None = None,
                 sign: bool = False) -> Protocol:  # fmt: skip
        """The deployed contracts; with ``sign``, sending as the unlocked wallet.

        Signing takes the wallet's key lock on this deployment first
        (:mod:`worldgym.client.keylock`): a second process with the same key is refused
        before it is asked for a password. The lock is held until :meth:`close`.
        """
        w3 = self.web3()
        deployment = self.deployment()
        sender = None
        if sign:
            self.lock_key(select_wallet(self.settings, wallet).address, deployment)
            account = open_wallet(
                self.settings, wallet, password_file=password_file, prompt=self.prompt
            )
            labels = {address: name for name, address in deployment.addresses.by_contract().items()}
            sender = TxSender(w3, account, decoder=protocol_decoder(), labels=labels)
        return Protocol(w3, deployment, sender)

    def lock_key(self, address: str, deployment: Deployment | None = None) -> KeyLock:
        """Hold ``address``'s key lock on the deployment until :meth:`close` (or exit)."""
        deployment = deployment or self.deployment()
        path = lock_path(
            self.settings.data_dir / "locks",
            deployment.chain_id,
            deployment.addresses.worldgym,
            address,
        )
        for held in self._locks:
            if held.path == path:
                return held
        lock = KeyLock(path, address).acquire()
        self._locks.append(lock)
        return lock

    def close(self) -> None:
        """Release what this command held: key locks and the content store."""
        for lock in self._locks:
            lock.release()
        self._locks.clear()
        if self._store is not None:
            self._store.close()
            self._store = None
