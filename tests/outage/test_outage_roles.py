"""A miner and a validator, as real processes, through a chain outage and a storage outage.

The chain: anvil (1 s blocks, its state on disk) is stopped for over a minute in
the middle of the validator's commit window, while the miner mines its second
epoch, and started again on the same URL. The storage: a Kubo stand-in
(``tests/kubo_standin.py``) is stopped while the miner mines and again when the
validator scores. Afterwards: both processes stayed up and said what they were
waiting for; every batch landed once; the validator committed and revealed
once per epoch and was not slashed; nothing it scored reads "not in storage".
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from worlds import World, make_world, signing_account

from worldgym.chain.contracts import Stage, Window
from worldgym.chain.manifest import ProtocolParams
from worldgym.client.wallet import Keystore
from worldgym.core.amounts import WAD
from worldgym.deploy.anvil import AnvilProcess, free_port
from worldgym.deploy.devchain import DevChain
from worldgym.validator.state import ValidatorState

pytestmark = [pytest.mark.ml, pytest.mark.slow]

PASSWORD = "outages happen"
STAKE = 2_000 * WAD
_REPO = Path(__file__).resolve().parents[2]


@dataclass
class Net:
    """The devnet, its world, a staked validator key and a config for the CLI."""

    node: AnvilProcess
    chain: DevChain
    world: World
    validator: LocalAccount
    root: Path

    def restart_chain(self) -> None:
        """Start anvil again on the same port from its state file (it was stopped)."""
        self.node = AnvilProcess(
            port=self.node.port, block_time=1, state_path=self.root / "chain.json"
        ).start()

    def config(self, storage: str) -> Path:
        """A config file for the CLI with both keys in its keystore and ``storage`` as the
        ``[storage]`` section."""
        manifest = self.root / "manifest.json"
        self.chain.deployment.save(manifest)
        path = self.root / "config.toml"
        path.write_text(
            f'data_dir = "{self.root / "data"}"\nnetwork = "test"\n[networks.test]\n'
            f'rpc_url = "{self.node.url}"\nchain_id = {self.chain.deployment.chain_id}\n'
            f'manifest = "{manifest}"\n[storage]\n{storage}\n'
        )
        return path

    def state(self) -> ValidatorState:
        gym = self.chain.gym.address.lower()
        name = f"{self.chain.deployment.chain_id}-{gym}/{self.validator.address.lower()}.db"
        return ValidatorState(self.root / "data" / "validator" / name)


@pytest.fixture
def net(tmp_path: Path, model_dir: Path) -> Iterator[Net]:
    node = AnvilProcess(block_time=1, state_path=tmp_path / "chain.json", state_interval_s=1)
    node.start()
    try:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 30}))
        chain = DevChain.deploy(w3, ProtocolParams(epoch_length=40, commit_blocks=20,
                                                   reveal_blocks=20))  # fmt: skip
        world = make_world(chain, model_dir, tmp_path)
        account, _, protocol = signing_account(chain)
        chain.fund(account.address, STAKE)
        protocol.stake(STAKE)
        keystore = Keystore(tmp_path / "data" / "keystore")
        for key in (world.account.key, account.key):
            keystore.import_key(key, PASSWORD, light_kdf=True)
        net = Net(node, chain, world, account, tmp_path)
        yield net
    finally:
        net.node.stop() if "net" in locals() else node.stop()


def _role(net: Net, config: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WORLDGYM_CONFIG": str(config), "WORLDGYM_PASSWORD": PASSWORD}
    log = open(net.root / f"{name}.log", "wb")  # noqa: SIM115 - the child writes it
    return subprocess.Popen(
        [sys.executable, "-m", "worldgym.cli.app", *args],
        env=env,
        stdout=log,
        stderr=log,
        cwd=_REPO,
    )


def _log(net: Net, name: str) -> str:
    return (net.root / f"{name}.log").read_text(errors="replace")


def _until(what: str, check: Callable[[], object], timeout_s: float = 180.0) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = check()
        except (OSError, ConnectionError):
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _calls_from(chain: DevChain, sender: str, fn: str) -> list[tuple[int, ...]]:
    """The decoded arguments of every mined call of ``fn`` on the gym sent by ``sender``."""
    selector = chain.gym.get_function_by_name(fn).abi
    found = []
    for number in range(chain.w3.eth.block_number + 1):
        block: Any = chain.w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            if tx["from"] != sender or tx["to"] != chain.gym.address:
                continue
            func, args = chain.gym.decode_function_input(tx["input"])
            if func.abi == selector:
                found.append(tuple(args.values()))
    return found


def _miner_epochs(net: Net) -> list[int]:
    chain, miner = net.chain, net.world.account.address
    return [e for e in range(chain.current_epoch() + 1) for b in chain.batches(e)
            if b.miner == miner]  # fmt: skip


def _assert_settled_once(net: Net, epoch: int) -> None:
    chain, v = net.chain, net.validator.address
    assert chain.commitment(epoch, v).revealed, "the validator must reveal after the outage"
    assert chain.stake_of(v) == STAKE, "nothing may be slashed"
    commits = [a for a in _calls_from(chain, v, "commit") if a[0] == epoch]
    reveals = [a for a in _calls_from(chain, v, "reveal") if a[0] == epoch]
    assert (len(commits), len(reveals)) == (1, 1), "sent once each"


def test_a_minute_without_the_chain_mid_window(net: Net) -> None:
    config = net.config(f'path = "{net.root / "store"}"')
    chain = net.chain
    validator = _role(net, config, "validator", "validate", "--wallet", net.validator.address)
    # three epochs: the second's batch can land before the outage begins (3 tasks take
    # seconds), so the third is what the miner still waits for while the chain is gone
    miner = _role(net, config, "miner", "mine", "--env", str(net.world.env_id), "--epochs", "3",
                  "--tasks-per-batch", "3", "--wallet", net.world.account.address)  # fmt: skip
    try:
        _until("the first batch", lambda: _miner_epochs(net))
        (epoch,) = _miner_epochs(net)
        opens, _ = chain.window(epoch, Window.COMMIT)
        _until("the middle of the commit window", lambda: chain.block_number() >= opens + 3)

        net.node.stop()  # the chain is gone for over a minute, mid-window
        stopped = time.monotonic()
        while time.monotonic() - stopped < 65:
            assert validator.poll() is None, _log(net, "validator")
            assert miner.poll() is None, _log(net, "miner")
            time.sleep(1)
        net.restart_chain()

        assert miner.wait(timeout=240) == 0, _log(net, "miner")
        _until("finalization", lambda: chain.finalization(epoch)[0] is Stage.FINALIZED)
    finally:
        _stop(validator)
        _stop(miner)

    _assert_settled_once(net, epoch)
    mined = _miner_epochs(net)
    assert len(mined) == 3, mined
    assert len(set(mined)) == 3, "one batch per epoch: nothing submitted twice"
    assert len(_calls_from(chain, net.world.account.address, "submitBatch")) == 3
    for name in ("validator", "miner"):
        log = _log(net, name)
        assert "waiting for the RPC node" in log, log
        assert "back after" in log, log
        assert "Traceback" not in log, log


def test_storage_stopped_while_mining_and_while_scoring(net: Net) -> None:
    port = free_port()
    standin = [sys.executable, "-m", "tests.kubo_standin",
               "--store", str(net.root / "store"), "--port", str(port)]  # fmt: skip

    def storage_up() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(standin, cwd=_REPO)
        _until("the storage stand-in", lambda: _answers(port), 30)
        return proc

    storage = storage_up()
    config = net.config(
        f'backend = "kubo"\nkubo_api = "http://127.0.0.1:{port}"\nretries = 0\ntimeout_s = 5'
    )
    chain = net.chain
    start = chain.current_epoch() + 1  # a fresh epoch, so the outage fits in its window
    _until("a fresh epoch", lambda: chain.current_epoch() >= start)
    validator = _role(net, config, "validator", "validate", "--wallet", net.validator.address)
    miner = _role(net, config, "miner", "mine", "--env", str(net.world.env_id), "--once",
                  "--tasks-per-batch", "3", "--wallet", net.world.account.address)  # fmt: skip
    try:
        _until("the miner to start", lambda: "mining as" in _log(net, "miner"), 120)
        storage.kill()  # down while the miner builds and pins
        storage.wait()
        time.sleep(12)
        storage = storage_up()
        assert miner.wait(timeout=180) == 0, _log(net, "miner")
        (epoch,) = _miner_epochs(net)

        opens, _ = chain.window(epoch, Window.COMMIT)
        _until("the commit window", lambda: chain.block_number() >= opens - 1)
        storage.kill()  # down when the validator scores
        storage.wait()
        time.sleep(10)
        storage = storage_up()
        _until("finalization", lambda: chain.finalization(epoch)[0] is Stage.FINALIZED)
    finally:
        _stop(validator)
        _stop(miner)
        storage.kill()
        storage.wait()

    _assert_settled_once(net, epoch)
    record = net.state().get(epoch)
    assert record is not None
    assert not any("storage" in reason for reason in record.reasons), record.reasons
    assert len(_calls_from(chain, net.world.account.address, "submitBatch")) == 1
    for name in ("miner", "validator"):
        assert "waiting for storage" in _log(net, name), _log(net, name)
        assert "Traceback" not in _log(net, name)


def _answers(port: int) -> bool:
    import httpx

    try:
        return httpx.post(f"http://127.0.0.1:{port}/api/v0/version", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
