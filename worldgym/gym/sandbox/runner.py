"""The sandbox supervisor: run untrusted Python in a separate, confined process.

:func:`run_python` starts ``_child_main.py`` with ``python -I -S -B`` in a new
session, hands it the program on stdin, reads its output with caps and a
wall-clock deadline, then SIGKILLs the whole process group and removes the
private temp dir. What the child manages to apply (namespaces, uid nobody,
Landlock, seccomp, or the audit-hook fallback) comes back in
:attr:`SandboxResult.layers`. worldgym/gym/README.md ("Sandbox") lists the guarantees.

**Fail closed.** Where the kernel cannot isolate the program (files, network
and processes: see ``_child_run.missing_isolation``) nothing runs and
:class:`SandboxError` says what is missing, unless the operator allowed the
weaker fallback with ``WORLDGYM_SANDBOX_ALLOW_FALLBACK=1`` (or a caller asks
for ``mode="fallback"`` explicitly).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import marshal
import os
import py_compile
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import platformdirs

from worldgym.gym.errors import SandboxError

__all__ = [
    "ALLOW_FALLBACK_ENV",
    "CHILD",
    "Limits",
    "SandboxResult",
    "default_hidden_paths",
    "fallback_allowed",
    "run_python",
]

CHILD = Path(__file__).with_name("_child_main.py")
ALLOW_FALLBACK_ENV = "WORLDGYM_SANDBOX_ALLOW_FALLBACK"
NOBODY = 65534
_GRACE_S = 0.2
_READ_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits of one sandbox run."""

    wall_s: float = 10.0
    cpu_s: int = 5
    memory_mb: int = 512
    file_mb: int = 16
    tmpfs_mb: int = 64
    processes: int = 32
    open_files: int = 64
    output_bytes: int = 1 << 20


@dataclass(frozen=True, slots=True)
class SandboxResult:
    """How a sandboxed program ended and what it printed (each stream capped)."""

    exit_code: int | None
    signal: int | None
    timed_out: bool
    stdout: bytes
    stderr: bytes
    truncated: bool
    wall_s: float
    layers: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """True when the program ran to the end and exited with 0."""
        return self.exit_code == 0 and not self.timed_out

    def describe(self) -> str:
        """How the run ended, in words: ``exited with 1``, ``killed by SIGXCPU (CPU time limit)``"""
        if self.timed_out:
            return f"timed out after {self.wall_s:.1f} s (wall-clock limit)"
        if self.signal is not None:
            try:
                name = signal.Signals(self.signal).name
            except ValueError:
                name = f"signal {self.signal}"
            why = {
                "SIGXCPU": "CPU time limit",
                "SIGKILL": "killed",
                "SIGXFSZ": "file size limit",
                "SIGSEGV": "crashed",
            }.get(name, "signal")
            return f"killed by {name} ({why})"
        return f"exited with {self.exit_code}"


def default_hidden_paths() -> list[str]:
    """Paths the sandbox hides: WorldGym's config and data dirs (keystores live there), ~/.ssh."""
    return [
        platformdirs.user_config_dir("worldgym"),
        platformdirs.user_data_dir("worldgym"),
        str(Path.home() / ".ssh"),
    ]


@functools.cache
def fallback_allowed() -> bool:
    """True if the operator allowed the audit-hook fallback ($WORLDGYM_SANDBOX_ALLOW_FALLBACK=1)."""
    return os.environ.get(ALLOW_FALLBACK_ENV, "").strip().lower() in ("1", "true", "yes")


def _cache_child_bytecode() -> None:
    """Write the child modules' bytecode cache once, if the package dir is writable.

    The child runs with ``-B`` (it never writes caches itself, as nobody); without
    a cache each run would recompile them, a few milliseconds every time.
    """
    for path in sorted(CHILD.parent.glob("_child_*.py")):
        if path != CHILD:
            py_compile.compile(str(path), quiet=2)


def _minimal_env(workdir: str) -> dict[str, str]:
    return {"HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is already gone
        os.killpg(pgid, signal.SIGKILL)


class _Collector:
    """Reads stdout, stderr and the status pipe to the end, keeping at most ``cap`` bytes each."""

    def __init__(self, proc: subprocess.Popen[bytes], status_fd: int, cap: int) -> None:
        if proc.stdout is None or proc.stderr is None:
            raise SandboxError("the sandbox child has no output pipes")
        self.cap = cap
        self.truncated = False
        self.buffers: dict[int, bytearray] = {}
        self.selector = selectors.DefaultSelector()
        for fd in (proc.stdout.fileno(), proc.stderr.fileno(), status_fd):
            self.buffers[fd] = bytearray()
            self.selector.register(fd, selectors.EVENT_READ)
        self.stdout_fd, self.stderr_fd, self.status_fd = (
            proc.stdout.fileno(),
            proc.stderr.fileno(),
            status_fd,
        )

    def messages(self) -> list[dict[str, Any]]:
        out = []
        for line in bytes(self.buffers[self.status_fd]).splitlines():
            try:
                message = ast.literal_eval(line.decode("utf-8", errors="replace"))
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                continue
            if isinstance(message, dict):
                out.append(message)
        return out

    def finished(self) -> bool:
        return any("exit" in m or "signal" in m or "runner_failed" in m for m in self.messages())

    def run(self, deadline: float) -> bool:
        """Collect until every pipe closes; True if the deadline came before the program ended."""
        grace_until: float | None = None
        while self.selector.get_map():
            now = time.monotonic()
            if grace_until is None and self.finished():
                grace_until = now + _GRACE_S
            limit = min(deadline, grace_until) if grace_until is not None else deadline
            if now >= limit:
                return not self.finished()
            for key, _ in self.selector.select(timeout=limit - now):
                fd = int(key.fd)
                chunk = os.read(fd, _READ_CHUNK)
                if not chunk:
                    self.selector.unregister(fd)
                    continue
                buffer = self.buffers[fd]
                room = self.cap - len(buffer)
                if len(chunk) > room:
                    self.truncated = True
                buffer.extend(chunk[: max(room, 0)])
        return False


def _feed(stdin: IO[bytes] | None, data: bytes) -> None:
    assert stdin is not None
    try:
        stdin.write(data)
        stdin.close()
    except BrokenPipeError:
        pass  # the child died before reading; its stderr says why


def run_python(
    program: str,
    data: Any = None,
    *,
    limits: Limits | None = None,
    hide: list[str] | None = None,
    mode: Literal["auto", "fallback"] = "auto",
) -> SandboxResult:
    """Run ``program`` (Python source) in the sandbox; ``data`` is its global ``SANDBOX_INPUT``.

    Args:
        program: the source to execute; only the standard library is importable.
        data: a JSON value handed to the program.
        limits: resource limits (:class:`Limits` defaults).
        hide: paths made unreadable inside (default :func:`default_hidden_paths`).
        mode: ``"auto"`` uses every kernel layer available and refuses to run
            without kernel isolation unless :func:`fallback_allowed`;
            ``"fallback"`` asks for the fallback explicitly: rlimits, the process
            group, seccomp and the audit hook, no namespaces or Landlock (what a
            kernel without them gets; for tests and for comparison).

    Raises:
        SandboxError: the sandbox itself could not be started, or this machine
            cannot isolate the program and the fallback was not allowed (not: the
            program failed).
    """
    _cache_child_bytecode()
    limits = limits or Limits()
    hidden = [str(Path(p).expanduser()) for p in (default_hidden_paths() if hide is None else hide)]
    workdir = tempfile.mkdtemp(prefix="worldgym-sandbox-")
    try:
        if os.geteuid() == 0:
            os.chown(workdir, NOBODY, NOBODY)
        return _supervise(program, data, limits, hidden=hidden, mode=mode, workdir=workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _supervise(
    program: str, data: Any, limits: Limits, *, hidden: list[str], mode: str, workdir: str
) -> SandboxResult:
    status_r, status_w = os.pipe()
    config = {
        "program": program,
        "input": data,
        "workdir": workdir,
        "hide": hidden,
        "mode": mode,
        "allow_fallback": mode == "fallback" or fallback_allowed(),
        "status_fd": status_w,
        "limits": {
            "cpu_s": limits.cpu_s,
            "memory_mb": limits.memory_mb,
            "file_mb": limits.file_mb,
            "tmpfs_mb": limits.tmpfs_mb,
            "processes": limits.processes,
            "open_files": limits.open_files,
        },
    }
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", str(CHILD)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(status_w,),
            cwd=workdir,
            env=_minimal_env(workdir),
            start_new_session=True,
        )
    except OSError as exc:
        os.close(status_r)
        raise SandboxError(f"cannot start the sandbox ({sys.executable}): {exc.strerror}") from None
    finally:
        os.close(status_w)
    collector = _Collector(proc, status_r, limits.output_bytes)
    try:
        _feed(proc.stdin, marshal.dumps(config))
        timed_out = collector.run(start + limits.wall_s)
    finally:
        _kill_group(proc.pid)
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        os.close(status_r)
    return _result(collector, timed_out, time.monotonic() - start)


def _result(collector: _Collector, timed_out: bool, wall_s: float) -> SandboxResult:
    messages = collector.messages()
    merged: dict[str, Any] = {}
    for message in messages:
        merged.update(message)
    stderr = bytes(collector.buffers[collector.stderr_fd])
    if "setup_error" in merged:
        raise SandboxError(f"the sandbox could not confine the program: {merged['setup_error']}")
    if "layers" not in merged and not timed_out:
        tail = stderr[-500:].decode(errors="replace")
        raise SandboxError(f"the sandbox child failed before running the program: {tail}")
    return SandboxResult(
        exit_code=merged.get("exit") if not timed_out else None,
        signal=merged.get("signal") if not timed_out else None,
        timed_out=timed_out,
        stdout=bytes(collector.buffers[collector.stdout_fd]),
        stderr=stderr,
        truncated=collector.truncated,
        wall_s=wall_s,
        layers=tuple(merged.get("layers", ())),
        notes=tuple(merged.get("notes", ())),
    )
