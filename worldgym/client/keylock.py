"""One process per key and deployment: a file lock that a second process is refused by.

Two processes sending from one account (two validators, a miner and a
``worldgym stake`` started beside it) race for nonces and act twice: both
commit, both claim. Every command that signs takes the lock of its key on its
deployment (:class:`KeyLock`, an ``flock`` on
``<data_dir>/locks/<chain id>-<contract>-<address>.lock``) before it unlocks
the wallet, and holds it until it exits; the kernel drops the lock when the
process dies, so a crash never leaves a stale one. The file names the holder
(pid, command, start time), which the refusal quotes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

from worldgym.client.errors import KeyInUseError
from worldgym.core.errors import UsageError

__all__ = ["KeyLock", "lock_path"]


def lock_path(directory: Path, chain_id: int, contract: str, address: str) -> Path:
    """The lock file of ``address`` on the deployment ``(chain_id, contract)``."""
    return directory / f"{chain_id}-{contract.lower()}-{address.lower()}.lock"


class KeyLock:
    """The exclusive lock of one key on one deployment, held by this process."""

    def __init__(self, path: Path, address: str) -> None:
        self.path = Path(path)
        self.address = address
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._file is not None

    def acquire(self) -> KeyLock:
        """Take the lock, or raise :class:`KeyInUseError` naming the process that has it."""
        if self._file is not None:
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle = open(self.path, "a+")  # noqa: SIM115 - held until release()
        except OSError as exc:
            raise UsageError(f"cannot create the key lock {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(handle)
            handle.close()
            raise KeyInUseError(
                f"{self.address} is already in use on this deployment by {holder}: two "
                "processes sending from one key race for nonces and act twice. Stop that "
                "process first, or use another wallet"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {"pid": os.getpid(), "command": _command(), "since": int(time.time())},
                separators=(",", ":"),
            )
        )
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        """Let the lock go (it also goes when the process exits)."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.seek(0)
                self._file.truncate()
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> KeyLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _command() -> str:
    argv = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else ["python"]
    # Never quote a secret: options that take a password or key are dropped with their value.
    shown: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--password-file", "--key-file"):
            skip = True
            continue
        shown.append(arg)
    text = " ".join(shown)
    return text if len(text) <= 120 else text[:117] + "..."


def _holder(handle: IO[str]) -> str:
    try:
        handle.seek(0)
        info: Any = json.loads(handle.read() or "{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict) or "pid" not in info:
        return "another process"
    since = time.strftime("%H:%M:%S", time.localtime(int(info.get("since", 0))))
    return f"pid {info['pid']} (`{info.get('command', '?')}`, since {since})"
