"""Datasets whose tasks depend on ``PYTHONHASHSEED``, served by a child with the hash seed pinned.

A few reasoning-gym datasets iterate over sets of strings, whose order depends on
the per-process string hash seed, so two machines (or two runs) would derive
different tasks. For those, :class:`PinnedWorker` runs the dataset in a child
interpreter started with ``PYTHONHASHSEED=0`` (``_pinned_worker.py``), so every
machine on the same CPython string hash (SipHash-1-3, 3.11+) derives the same
tasks. The child is started on first use, talks JSON lines, is killed and
restarted when a call overruns its time limit, and is stopped at exit.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from worldgym.gym.errors import GymError

__all__ = ["GENERATE_TIMEOUT_S", "SCORE_TIMEOUT_S", "STARTUP_S", "PinnedWorker", "WorkerError"]

GENERATE_TIMEOUT_S = 120.0
STARTUP_S = 60.0
SCORE_TIMEOUT_S = 5.0
_SCRIPT = Path(__file__).with_name("_pinned_worker.py")
_MAX_REPLY = 16 << 20


class WorkerError(GymError, RuntimeError):
    """The pinned-hash child failed or overran its time limit (it is restarted on next use)."""


class PinnedWorker:
    """One dataset (with its config) in a ``PYTHONHASHSEED=0`` child interpreter; thread-safe."""

    def __init__(self, dataset: str, config_json: str, per_task: bool) -> None:
        self._args = [dataset, config_json, "1" if per_task else "0"]
        self._lock = threading.Lock()
        self._child: dict[str, subprocess.Popen[bytes] | None] = {"proc": None}
        # stops the child when this worker is collected, or at exit
        weakref.finalize(self, _stop, self._child)

    def _start(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        env.pop("PYTHONSTARTUP", None)
        return subprocess.Popen(
            [sys.executable, str(_SCRIPT), *self._args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait for its reply.

        Raises:
            WorkerError: the child died, answered garbage or took longer than ``timeout``.
        """
        with self._lock:
            proc = self._child["proc"]
            if proc is None or proc.poll() is not None:
                proc = self._child["proc"] = self._start()
                timeout += STARTUP_S  # importing reasoning-gym is part of the first call
            if proc.stdin is None or proc.stdout is None:
                raise WorkerError("the pinned-hash worker has no pipes")
            try:
                proc.stdin.write((json.dumps(request) + "\n").encode())
                proc.stdin.flush()
                line = _read_line(proc.stdout, timeout)
            except (OSError, WorkerError) as exc:
                _stop(self._child)
                raise WorkerError(f"pinned-hash worker for {self._args[0]}: {exc}") from None
            except BaseException:
                _stop(
                    self._child
                )  # interrupted mid-request: its late reply must not answer the next
                raise
        try:
            reply: dict[str, Any] = json.loads(line)
        except ValueError:
            raise WorkerError(f"pinned-hash worker for {self._args[0]} answered garbage") from None
        return reply

    def close(self) -> None:
        """Stop the child (also done when the worker is collected, and at exit)."""
        with self._lock:
            _stop(self._child)


def _stop(child: dict[str, subprocess.Popen[bytes] | None]) -> None:
    proc, child["proc"] = child["proc"], None
    if proc is not None:
        proc.kill()
        proc.wait()


def _read_line(stream: Any, timeout: float) -> bytes:
    """One line from the child's stdout within ``timeout`` seconds (its startup included)."""
    fd = stream.fileno()
    buffer = bytearray()
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not buffer.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(timeout=left):
                raise WorkerError(f"no answer within {timeout:g} s")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise WorkerError("it exited")
            buffer.extend(chunk)
            if len(buffer) > _MAX_REPLY:
                raise WorkerError("its answer is too large")
    return bytes(buffer)
