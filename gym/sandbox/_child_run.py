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

import _child_audit
import _child_isolation as iso
import _child_landlock

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


def _worker(config: dict[str, Any], layers: list[str], notes: list[str], workdir: str) -> None:
    status = config["status_fd"]
    limits = config["limits"]
    root = os.geteuid() == 0
    try:
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
        if root and config["mode"] == "auto":
            if "private-tmp" in layers or _world_traversable(sys.base_prefix):
                iso.drop_privileges()
                layers.append("uid-nobody")
            else:
                notes.append("still root: the Python installation is not readable by nobody")
        elif "userns" in layers:
            iso.clear_capabilities()
        iso.set_no_new_privs()
        if config["mode"] == "auto":
            prefix = (
                iso.SANDBOX_PYTHON if "private-tmp" in layers else os.path.realpath(sys.base_prefix)
            )
            try:
                layers += _child_landlock.restrict([*_SYSTEM_READ_ROOTS, prefix], [workdir])
            except OSError as exc:
                notes.append(f"no Landlock: {exc.strerror}")
        kernel_net = "netns" in layers or "landlock-tcp" in layers
        if "landlock-fs" not in layers or not kernel_net:
            _child_audit.install(workdir, config["hide"])
            layers.append("audit-hook")
        _report(status, {"layers": layers, "notes": notes})
        os.close(status)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
    except BaseException as exc:  # setup failed: say so on the trusted pipe, run nothing
        _report(status, {"setup_error": f"{type(exc).__name__}: {exc}"})
        os._exit(70)
    _run_program(config["program"], config["input"])


def _run_program(program: str, data: Any) -> None:
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "__builtins__": builtins,
        "SANDBOX_INPUT": data,
    }
    code = 0
    try:
        exec(compile(program, "<sandbox>", "exec"), namespace)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        sys.__excepthook__(*sys.exc_info())  # the C printer: no traceback module to import
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1
    os._exit(code)


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
