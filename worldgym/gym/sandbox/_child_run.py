"""The sandbox child (started as ``python -I -S -B _child_main.py``, which calls :func:`main`).

Standard library only; reads its configuration as JSON on stdin. Process tree::

    P0  this script, started by the supervisor in a new session (process group)
    └── C   only with a PID namespace: its init (pid 1); when C exits, the kernel
        │   kills everything left in the namespace
        └── W   the worker: limits, privilege drop, Landlock, then the program

Only modules that load fast are imported here (no ``json``: it costs 10 ms of
the ~40 ms a run takes); the configuration arrives as ``marshal`` data from the
supervisor and status messages leave as ``repr`` lines.

P0 enters the namespaces. The runner (C, or P0 without a PID namespace) sets up
the private mount tree and reports W's end on the status pipe; W reports the
layers it got on the same pipe and closes it before any untrusted code runs,
so what the supervisor reads there cannot be forged by the program.
"""

from __future__ import annotations

import builtins
import marshal
import os
import stat
import sys

import _child_fresh
import _child_isolation as iso
import _child_landlock
import _child_seccomp

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~3 ms per run
if TYPE_CHECKING:
    from typing import Any

_SYSTEM_READ_ROOTS = [
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/bin",
    "/dev/null",
    "/dev/urandom",
    "/dev/zero",
]


def _report(fd: int, message: dict[str, Any]) -> None:
    os.write(fd, (repr(message) + "\n").encode())


def _wait(pid: int) -> dict[str, int]:
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"exit": os.waitstatus_to_exitcode(status)}


def _world_traversable(path: str) -> bool:
    """True if uid nobody could read ``path``: every ancestor o+x, the path itself o+rx."""
    current = os.path.realpath(path)
    while True:
        mode = os.stat(current).st_mode
        if not mode & stat.S_IXOTH or (
            current == os.path.realpath(path) and not mode & stat.S_IROTH
        ):
            return False
        if current == "/":
            return True
        current = os.path.dirname(current)


def missing_isolation(layers: list[str]) -> list[str]:
    """What the kernel layers in ``layers`` leave unconfined (empty: the run is isolated).

    files: Landlock, or uid nobody in a private mount tree; network: a network
    namespace, Landlock's TCP rules or seccomp (no sockets); processes: seccomp
    (no new processes, no signals to others), or a PID namespace whose members
    cannot signal out (uid nobody, or Landlock's scopes).
    """
    have = set(layers)
    missing = []
    if "landlock-fs" not in have and not {"uid-nobody", "private-tmp"} <= have:
        missing.append("files (Landlock, or uid nobody in a mount namespace)")
    if not have & {"netns", "landlock-tcp", "seccomp"}:
        missing.append("network (a network namespace, Landlock TCP rules or seccomp)")
    if "seccomp" not in have and not ("pidns" in have and have & {"uid-nobody", "landlock-scope"}):
        missing.append("processes (seccomp, or a PID namespace that cannot signal out)")
    return missing


def _confine(
    config: dict[str, Any], layers: list[str], notes: list[str], workdir: str
) -> list[str]:
    """Limits, identity and Landlock for the worker; returns the readable roots."""
    limits = config["limits"]
    iso.set_parent_death_signal()
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(
        {"HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    )
    iso.set_limits(
        limits["cpu_s"],
        limits["memory_mb"],
        limits["file_mb"],
        limits["processes"],
        limits["open_files"],
    )
    if os.geteuid() == 0:
        if "private-tmp" in layers or _world_traversable(sys.base_prefix):
            iso.drop_privileges()
            layers.append("uid-nobody")
        else:
            notes.append("still root: the Python installation is not readable by nobody")
    elif "userns" in layers:
        iso.clear_capabilities()
    iso.set_no_new_privs()
    prefix = iso.SANDBOX_PYTHON if "private-tmp" in layers else os.path.realpath(sys.base_prefix)
    readable = [*_SYSTEM_READ_ROOTS, prefix]
    if config["mode"] == "auto":
        try:
            layers += _child_landlock.restrict(readable, [workdir])
        except OSError as exc:
            notes.append(f"no Landlock: {exc.strerror}")
    return readable


class _RefusedError(Exception):
    """The machine cannot confine the program as required; nothing runs."""


def _isolate(config: dict[str, Any], layers: list[str], notes: list[str]) -> bool:
    """Decide between kernel isolation and the fallback; True for the fallback.

    With kernel isolation seccomp is installed here (best effort where the
    other layers suffice without it); the fallback installs it itself, just
    before its exec (``_child_fresh``).

    Raises:
        _RefusedError: no kernel isolation and no permission for the fallback, or no seccomp.
    """
    missing = missing_isolation([*layers, "seccomp"])
    if not missing:
        try:
            _child_seccomp.install()
            layers.append("seccomp")
        except OSError as exc:
            notes.append(f"no seccomp: {exc.strerror}")
        missing = missing_isolation(layers)
        if not missing:
            return False
        raise _RefusedError(
            "no kernel isolation on this machine (missing: " + "; ".join(missing) + "), and "
            "no seccomp, which even the fallback needs"
        )
    if not config["allow_fallback"]:
        raise _RefusedError(
            "no kernel isolation on this machine (missing: " + "; ".join(missing) + "); "
            "code environments are not scored here unless the operator allows the weaker "
            "audit-hook fallback (WORLDGYM_SANDBOX_ALLOW_FALLBACK=1)"
        )
    return True


def _worker(config: dict[str, Any], layers: list[str], notes: list[str], workdir: str) -> None:
    status = config["status_fd"]
    reported: list[bool] = []

    def ready() -> None:  # the last trusted words: then the status pipe is closed
        _report(status, {"layers": layers, "notes": notes})
        os.close(status)
        reported.append(True)

    try:
        readable = _confine(config, layers, notes, workdir)
        fallback = _isolate(config, layers, notes)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        if fallback:
            layers += ["seccomp", "audit-hook"]
            _child_fresh.exec_fresh(config, workdir, readable, ready)  # returns only on failure
    except _RefusedError as exc:
        _report(status, {"setup_error": str(exc)})
        os._exit(70)
    except BaseException as exc:  # setup failed: say so, run nothing
        if reported:  # the status pipe is closed: the exec itself failed
            os.write(2, f"sandbox: the fallback interpreter did not start: {exc}\n".encode())
            os._exit(73)
        _report(status, {"setup_error": f"{type(exc).__name__}: {exc}"})
        os._exit(70)
    ready()
    _run_program(config["program"], config["input"])


def _run_program(program: str, data: Any) -> None:
    """Run the program in this process (kernel isolation); never returns.

    Everything used after the program is bound first: the program may empty
    this module or ``sys.modules`` without changing how its end is reported.
    """
    exit_now, excepthook, streams = os._exit, sys.__excepthook__, (sys.stdout, sys.stderr)
    exc_info = sys.exc_info
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "__builtins__": builtins,
        "SANDBOX_INPUT": data,
    }
    code = 0
    try:
        exec(compile(program, "<sandbox>", "exec"), namespace)
    except SystemExit as exc:
        code = exc.code if type(exc.code) is int else 1
    except BaseException:
        excepthook(*exc_info())  # the C printer: no traceback module to import
        code = 1
    for stream in streams:
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1
    exit_now(code)


def _runner(config: dict[str, Any], layers: list[str], notes: list[str]) -> int:
    """Set up the mount tree, start W, report how it ended; returns the runner's exit code."""
    iso.set_parent_death_signal()
    workdir = config["workdir"]
    if "mountns" in layers:
        owner = iso.NOBODY if os.geteuid() == 0 else os.getuid()
        try:
            workdir, more = iso.make_private_root(
                config["hide"], config["limits"]["tmpfs_mb"], owner
            )
            layers.append("private-tmp")
            notes.extend(more)
        except OSError as exc:
            notes.append(f"no private mount tree: {exc}")
    pid = os.fork()
    if pid == 0:
        _worker(config, layers, notes, workdir)  # never returns
        os._exit(72)
    _report(config["status_fd"], _wait(pid))
    return 0


def main() -> int:
    """Read the configuration, enter the namespaces, run the program (see the module docstring)."""
    config = marshal.loads(sys.stdin.buffer.read())  # from our supervisor (json costs 10 ms)
    iso.set_parent_death_signal()
    layers: list[str] = []
    notes: list[str] = []
    if config["mode"] == "auto":
        layers, notes = iso.enter_namespaces()
    if "pidns" not in layers:
        return _runner(config, layers, notes)
    pid = os.fork()
    if pid == 0:
        code = 71
        try:
            code = _runner(config, layers, notes)
        except BaseException:
            sys.__excepthook__(*sys.exc_info())
        finally:
            os._exit(code)
    ended = _wait(pid)
    if ended != {"exit": 0}:
        _report(config["status_fd"], {"runner_failed": ended})
    return 0
