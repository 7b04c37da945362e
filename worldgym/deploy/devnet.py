"""A local WorldGym network in one command: anvil + deployed contracts + funded dev accounts.

State lives under ``<data_dir>/devnet/``: ``anvil.pid``, ``anvil.log``,
``state.json`` (the chain, so ``down`` then ``up`` resumes it) and
``devnet.json`` (URL, port, chain id). The deployment manifest goes where every
command reads it (``<data_dir>/deployments/<chain_id>.json``).

``up`` after ``down`` resumes the chain on the *same* port, so the URL in the
``devnet`` profile stays right and a miner or validator that kept running
through the restart finds the node again. Every funded account gets ETH,
:data:`DEV_TOKEN_GRANT` tokens and the miners' bond staked, which is what a
newcomer needs to mine, to stake as a validator and to register an environment.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel
from web3 import Web3
from web3.types import RPCEndpoint

from worldgym.chain.contracts import REFINERY_ROLE
from worldgym.chain.manifest import Deployment, ProtocolParams, manifest_path
from worldgym.core.amounts import WAD
from worldgym.core.errors import UsageError
from worldgym.deploy.anvil import AnvilError, AnvilProcess, pid_alive, port_free, stop_pid
from worldgym.deploy.devchain import DevChain

__all__ = [
    "DEVNET_CHAIN_ID",
    "DEV_TOKEN_GRANT",
    "DevnetInfo",
    "devnet_down",
    "devnet_reset",
    "devnet_status",
    "devnet_up",
    "fund_account",
    "grant_refinery",
    "load_devnet_deployment",
]

DEVNET_CHAIN_ID = 31337
DEV_TOKEN_GRANT = 100_000 * WAD


class DevnetInfo(BaseModel):
    """What ``devnet up`` started, and whether it is running now."""

    running: bool
    url: str
    port: int
    pid: int | None
    chain_id: int
    block_time: float | None
    manifest: str
    block: int | None = None


@dataclass(frozen=True)
class _Paths:
    root: Path

    @property
    def pid(self) -> Path:
        return self.root / "anvil.pid"

    @property
    def log(self) -> Path:
        return self.root / "anvil.log"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def info(self) -> Path:
        return self.root / "devnet.json"


def _paths(data_dir: Path) -> _Paths:
    return _Paths(data_dir / "devnet")


def _read_info(paths: _Paths) -> DevnetInfo | None:
    try:
        return DevnetInfo.model_validate_json(paths.info.read_text())
    except (OSError, ValueError):
        return None


def devnet_status(data_dir: Path) -> DevnetInfo | None:
    """The devnet recorded under ``data_dir`` (None if never started), with its live state."""
    paths = _paths(data_dir)
    info = _read_info(paths)
    if info is None:
        return None
    alive = info.pid is not None and pid_alive(info.pid)
    block = None
    if alive:
        with contextlib.suppress(Exception):  # a node that does not answer is reported as down
            block = Web3(
                Web3.HTTPProvider(info.url, request_kwargs={"timeout": 2})
            ).eth.block_number
    return info.model_copy(update={"running": block is not None, "block": block})


def devnet_up(
    data_dir: Path,
    *,
    epoch_blocks: int | None = None,
    block_time: float | None = 1.0,
    fund: list[str] | None = None,
    refinery: list[str] | None = None,
    port: int | None = None,
) -> DevnetInfo:
    """Start anvil and deploy, or report the devnet already running (``up`` twice is safe).

    ``epoch_blocks`` sets the epoch length (commit and reveal windows split it in
    halves); ``fund`` lists extra addresses (e.g. keystore wallets) that get ETH,
    tokens and the miners' bond besides anvil's dev accounts, on a new chain and on
    a resumed one alike; ``refinery`` lists addresses granted REFINERY_ROLE (they may
    register models). A resumed chain listens on the port it had (``port`` picks
    one for a new chain; default: a free one).
    """
    paths = _paths(data_dir)
    current = devnet_status(data_dir)
    if current is not None and current.running:
        _provision(data_dir, current.url, fund or [], refinery or [])
        return devnet_status(data_dir) or current
    if current is not None and current.pid is not None and pid_alive(current.pid):
        stop_pid(current.pid)  # alive but not answering: replace it
    paths.root.mkdir(parents=True, exist_ok=True)
    resume = paths.state.exists() and manifest_path(data_dir, DEVNET_CHAIN_ID).exists()
    chosen = port or (current.port if current is not None else 0)
    if chosen and not port_free(chosen):
        raise AnvilError(
            f"port {chosen}, where this devnet listens, is taken by another process: stop it "
            "(the devnet keeps its URL so that running miners and validators find it again), "
            "or `worldgym devnet reset` to start a new chain on a free port"
        )
    # Whole-second block times are switched on after the set-up, which then mines a block per
    # transaction instead of waiting a block for each of its ~50 (48 s down to a few).
    later = block_time is not None and block_time >= 1 and float(block_time).is_integer()
    node = AnvilProcess(
        port=chosen,
        chain_id=DEVNET_CHAIN_ID,
        block_time=None if later else block_time,
        log_path=paths.log,
        state_path=paths.state,
    ).start()
    try:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 30}))
        target = manifest_path(data_dir, DEVNET_CHAIN_ID)
        if not resume:
            params = ProtocolParams()
            if epoch_blocks is not None:
                if epoch_blocks < 2:
                    raise UsageError(
                        "--epoch-blocks must be at least 2 (commit and reveal windows)"
                    )
                params = params.model_copy(
                    update={
                        "epoch_length": epoch_blocks,
                        "commit_blocks": epoch_blocks // 2,
                        "reveal_blocks": epoch_blocks - epoch_blocks // 2,
                    }
                )
            chain = DevChain.deploy(w3, params)
            chain.deployment.save(target)
            for account in chain.accounts[1:]:
                fund_account(chain, account)
        _provision(data_dir, node.url, fund or [], refinery or [])
        if later:
            w3.provider.make_request(RPCEndpoint("evm_setIntervalMining"), [int(block_time or 0)])
        info = DevnetInfo(
            running=True,
            url=node.url,
            port=node.port,
            pid=node.pid,
            chain_id=DEVNET_CHAIN_ID,
            block_time=block_time,
            manifest=str(target),
            block=w3.eth.block_number,
        )
        paths.pid.write_text(f"{node.pid}\n")
        paths.info.write_text(info.model_dump_json(indent=2) + "\n")
        return info
    except BaseException:
        node.stop()
        raise


def _provision(data_dir: Path, url: str, fund: list[str], refinery: list[str]) -> None:
    """Fund (and bond) ``fund``, grant ``refinery`` the refinery role, on the running devnet."""
    if not fund and not refinery:
        return
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    chain = DevChain(w3, load_devnet_deployment(data_dir), [str(a) for a in w3.eth.accounts])
    for account in fund:
        fund_account(chain, account)
    for account in refinery:
        grant_refinery(chain, account)


def grant_refinery(chain: DevChain, account: str) -> bool:
    """Grant ``account`` REFINERY_ROLE (the devnet's admin is dev account 0); return whether it
    was new."""
    address = Web3.to_checksum_address(account)
    if chain.has_role(REFINERY_ROLE, address):
        return False
    role = Web3.keccak(text=REFINERY_ROLE)
    chain.send(chain.deployer, chain.models, "grantRole", role, address)
    return True


def fund_account(
    chain: DevChain, account: str, tokens: int = DEV_TOKEN_GRANT, eth: int = 100
) -> None:
    """Give ``account`` ETH (anvil cheat code) and tokens from the genesis holder, and stake the
    miners' bond for it, so that any funded account can mine at once.

    The bond is staked as ``account`` itself: anvil lets the devnet impersonate it for those
    two transactions (approve and stake), even when its key lives in a keystore.
    """
    address = Web3.to_checksum_address(account)
    if chain.token.functions.balanceOf(address).call() < tokens:
        chain.fund(address, tokens)
    if not chain.miner_bond(address).bonded:
        chain.w3.provider.make_request("anvil_setBalance", [address, hex(eth * WAD)])  # type: ignore[arg-type]
        chain.w3.provider.make_request("anvil_impersonateAccount", [address])  # type: ignore[arg-type]
        try:
            chain.bond_miner_as(address)
        finally:
            chain.w3.provider.make_request("anvil_stopImpersonatingAccount", [address])  # type: ignore[arg-type]
    if chain.w3.eth.get_balance(address) < eth * WAD:  # last: the bond's gas came out of it
        chain.w3.provider.make_request("anvil_setBalance", [address, hex(eth * WAD)])  # type: ignore[arg-type]


def devnet_down(data_dir: Path) -> bool:
    """Stop the devnet's anvil by its pid (its state is kept); return whether one was running."""
    paths = _paths(data_dir)
    info = _read_info(paths)
    was_running = False
    if info is not None and info.pid is not None and pid_alive(info.pid):
        stop_pid(info.pid)
        was_running = True
    if info is not None:
        paths.info.write_text(
            info.model_copy(update={"running": False, "pid": None}).model_dump_json(indent=2)
        )
    paths.pid.unlink(missing_ok=True)
    return was_running


def devnet_reset(data_dir: Path) -> None:
    """Stop the devnet and forget its chain and manifest; the next ``up`` starts from genesis."""
    devnet_down(data_dir)
    shutil.rmtree(_paths(data_dir).root, ignore_errors=True)
    manifest_path(data_dir, DEVNET_CHAIN_ID).unlink(missing_ok=True)


def load_devnet_deployment(data_dir: Path) -> Deployment:
    """The devnet's manifest."""
    return Deployment.load(manifest_path(data_dir, DEVNET_CHAIN_ID))
