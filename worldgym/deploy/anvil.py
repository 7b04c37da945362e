"""Start and stop a local anvil node: loopback only, a free port, stopped by pid.

anvil ships in the npm package ``@foundry-rs/anvil-<platform>`` installed under
``contracts/node_modules`` by ``make``; ``WORLDGYM_ANVIL`` overrides the path.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worldgym.core.errors import ConfigError, WorldGymError

__all__ = [
    "AnvilError",
    "AnvilProcess",
    "UnlockedSender",
    "find_anvil",
    "free_port",
    "pid_alive",
    "port_free",
    "stop_pid",
]

_REPO = Path(__file__).resolve().parents[2]


class AnvilError(WorldGymError, RuntimeError):
    """anvil could not be started or did not answer."""


def find_anvil() -> str:
    """Return the path of the anvil binary, or raise :class:`ConfigError` saying how to get one."""
    override = os.environ.get("WORLDGYM_ANVIL")
    candidates = [override] if override else []
    candidates += [
        str(_REPO / "contracts" / "node_modules" / ".bin" / "anvil"),
        shutil.which("anvil") or "",
    ]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise ConfigError(
        "anvil not found: run `make deps` (installs it under contracts/node_modules) "
        "or set WORLDGYM_ANVIL to the anvil binary"
    )


def free_port() -> int:
    """Ask the kernel for a free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port`` (so anvil could bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (and is not a zombie we own)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_pid(pid: int, timeout_s: float = 5.0) -> None:
    """SIGTERM then, after ``timeout_s``, SIGKILL the process ``pid``; wait until it is gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + timeout_s
        time.sleep(0.02)


def _rpc(url: str, method: str, params: list[object]) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=2) as resp:
        return json.loads(resp.read())["result"]


@dataclass
class AnvilProcess:
    """One anvil node on 127.0.0.1. Use as a context manager or call start/stop.

    ``block_time`` of ``None`` mines a block per transaction (automine). With
    ``state_path`` the chain survives restarts (loaded at start, dumped
    periodically and on exit). ``hardfork`` picks the EVM rules (anvil's
    default is the latest). The process runs in its own session, so it
    outlives its parent unless stopped.
    """

    port: int = 0
    chain_id: int = 31337
    block_time: float | None = None
    accounts: int = 10
    balance_eth: int = 10_000
    log_path: Path | None = None
    state_path: Path | None = None
    state_interval_s: int = 5
    hardfork: str | None = None
    pid: int | None = None
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The node's HTTP JSON-RPC URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> AnvilProcess:
        """Start anvil and wait until it answers ``eth_chainId``."""
        if not self.port:
            self.port = free_port()
        cmd = [
            find_anvil(),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--accounts", str(self.accounts),
            "--balance", str(self.balance_eth),
            "--silent",
            # Keep recent states in memory only: with full history anvil persists every
            # block's state to ~/.foundry/anvil/tmp (gigabytes after a few thousand blocks).
            "--prune-history", "512",
        ]  # fmt: skip
        if self.block_time:
            cmd += ["--block-time", str(self.block_time)]
        if self.hardfork:
            cmd += ["--hardfork", self.hardfork]
        if self.state_path:
            # Load the chain from this file if it exists, dump it on exit and every few seconds.
            cmd += ["--state", str(self.state_path), "--state-interval", str(self.state_interval_s)]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            if self.log_path:
                log.close()  # type: ignore[union-attr]
        self.pid = self._proc.pid
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise AnvilError(
                    f"anvil exited with code {self._proc.returncode} ({' '.join(cmd)})"
                )
            try:
                _rpc(self.url, "eth_chainId", [])
                return self
            except (OSError, urllib.error.URLError, KeyError, ValueError):
                time.sleep(0.05)
        self.stop()
        raise AnvilError(f"anvil did not answer on {self.url} within {timeout_s:.0f}s")

    def stop(self) -> None:
        """Stop anvil by its pid and reap it."""
        if self.pid is not None:
            stop_pid(self.pid)
            if self._proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=1)
            self.pid = None

    def __enter__(self) -> AnvilProcess:
        return self.start() if self.pid is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class UnlockedSender:
    """Sends from one of anvil's unlocked dev accounts (``eth_sendTransaction``); devnet only.

    Production code signs locally with a keystore (``worldgym.chain.tx``); anvil's dev
    accounts are unlocked, which makes them convenient for the devnet's own
    set-up and for tests of the contracts.
    """

    def __init__(self, w3: Any, address: str) -> None:
        self._w3 = w3
        self.address = address

    def send(self, tx: dict[str, Any]) -> Any:
        """Send and wait (polling tightly: anvil answers before the receipt exists)."""
        tx = {"from": self.address, **tx}
        if "gas" not in tx:
            tx["gas"] = int(self._w3.eth.estimate_gas(tx) * 1.2) + 50_000
        tx_hash = self._w3.eth.send_transaction(tx)
        receipt = self._w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.005)
        if receipt["status"] != 1:
            raise AnvilError(f"transaction {tx_hash.hex()} reverted")
        return receipt
