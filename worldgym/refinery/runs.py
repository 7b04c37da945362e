"""Crash-safe refinery runs: a run key, a run directory with a state file, and one lock.

A run is identified by its **key**, a hash of everything that decides its
outcome (deployment, parent model, epochs, settings). Its directory
``<root>/runs/<key>/`` holds ``state.json``, which records each stage as it
completes, in this order::

    selected -> trained -> evaluated -> pinned -> registered
                                     \\-> rejected      (the gate said no)
    empty                                              (nothing to train on)

Every write of the state is atomic (a temporary file, fsync, rename), so a
crash leaves either the old state or the new one. A run restarted with the
same key resumes after the last completed stage; one that already ended
(registered, rejected or empty) is not run again, which makes a run over the
same finalized epochs idempotent. :class:`RunLock` (an ``flock`` on
``<root>/refinery.lock``, released by the kernel if the process dies) keeps
two runs from overlapping.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

from worldgym.core.canonical import canonical_json
from worldgym.core.files import write_durably
from worldgym.refinery.errors import RefineryError

__all__ = ["RefineryBusyError", "RunDir", "RunLock", "RunStage", "refinery_root", "run_key"]


def refinery_root(data_dir: Path, chain_id: int, worldgym: str) -> Path:
    """The refinery's working directory for one deployment: its runs, model cache, history
    and learning curve (``<data_dir>/refinery/<chain id>-<WorldGym address>``)."""
    return Path(data_dir) / "refinery" / f"{chain_id}-{worldgym.lower()}"


class RefineryBusyError(RefineryError):
    """Another refinery run holds the lock."""


class RunStage(StrEnum):
    """The stages a run records, in order; the last three end it."""

    SELECTED = "selected"
    TRAINED = "trained"
    EVALUATED = "evaluated"
    PINNED = "pinned"
    REGISTERED = "registered"
    REJECTED = "rejected"
    EMPTY = "empty"

    @property
    def final(self) -> bool:
        """Whether a run in this stage is over."""
        return self in (RunStage.REGISTERED, RunStage.REJECTED, RunStage.EMPTY)


_ORDER = list(RunStage)


def run_key(material: dict[str, Any]) -> str:
    """A short hex key for ``material`` (JSON-ready): equal inputs, equal keys."""
    return hashlib.sha256(canonical_json(material)).hexdigest()[:24]


class RunDir:
    """One run's directory and its state file."""

    def __init__(self, root: Path, key: str) -> None:
        self.key = key
        self.path = Path(root) / "runs" / key
        self.state_path = self.path / "state.json"

    def state(self) -> dict[str, Any]:
        """The recorded state (``{}`` before the first stage)."""
        try:
            raw = json.loads(self.state_path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RefineryError(
                f"the state of run {self.key} ({self.state_path}) is unreadable ({exc}); "
                "delete that run directory to start the run over"
            ) from None
        if not isinstance(raw, dict):
            raise RefineryError(f"the state of run {self.key} is not a JSON object")
        return raw

    @property
    def stage(self) -> RunStage | None:
        """The last completed stage (None before the first)."""
        value = self.state().get("stage")
        return None if value is None else RunStage(value)

    def reached(self, stage: RunStage) -> bool:
        """Whether ``stage`` (or a later one on the same path) has completed."""
        current = self.stage
        if current is None:
            return False
        if current in (RunStage.REJECTED, RunStage.EMPTY):
            return stage is current
        return _ORDER.index(current) >= _ORDER.index(stage)

    def advance(self, stage: RunStage, **fields: Any) -> dict[str, Any]:
        """Record ``stage`` as completed, with ``fields`` merged into the state (atomically)."""
        state = {**self.state(), **fields, "stage": stage.value}
        write_durably(self.state_path, json.dumps(state, indent=1, sort_keys=True).encode())
        return state


class RunLock:
    """An exclusive, non-blocking lock on ``<root>/refinery.lock`` (a context manager)."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / "refinery.lock"
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise RefineryBusyError(
                f"another refinery run (pid {holder}) holds {self.path}; wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
