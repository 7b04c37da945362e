"""The fallback layer: a CPython audit hook, for kernels without Landlock or namespaces.

It refuses, from inside the interpreter, what the kernel layers would have
refused: writing outside the working directory, reading hidden paths, sockets,
starting or signalling processes, and ``ctypes`` (which could undo the rest).
It is weaker than the kernel layers (a bug in CPython or a C extension can
bypass an audit hook) and gym/README.md says so; the sandbox reports which
layers a run had. Standard library only.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~3 ms per run
if TYPE_CHECKING:
    from typing import Any

__all__ = ["install"]

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_FORBIDDEN = frozenset(
    {
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.exec",
        "os.spawn",
        "os.system",
        "subprocess.Popen",
        "_posixsubprocess.fork_exec",
        "os.kill",
        "os.killpg",
        "signal.pthread_kill",
        "socket.__new__",
        "socket.connect",
        "socket.bind",
        "socket.sendto",
        "socket.getaddrinfo",
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.call_function",
        "ctypes.cdata",
        "sys.setprofile",
        "sys.settrace",
        "os.chroot",
        "os.setuid",
    }
)
_PATH_EVENTS = frozenset(
    {
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.mkdir",
        "os.chmod",
        "os.chown",
        "os.link",
        "os.symlink",
        "os.truncate",
        "os.utime",
        "shutil.rmtree",
        "os.chflags",
        "os.setxattr",
        "os.removexattr",
    }
)


def _inside(path: Any, root: str) -> bool:
    if isinstance(path, int):
        return True  # an already-open descriptor was checked when it was opened
    try:
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return real == root or real.startswith(root + os.sep)


def install(workdir: str, hidden: list[str]) -> None:
    """Install the hook (it cannot be removed); ``workdir`` is the only writable tree."""
    root = os.path.realpath(workdir)
    secret = [os.path.realpath(path) for path in hidden]

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in _FORBIDDEN:
            raise PermissionError(f"sandbox: {event} is not allowed")
        if event == "open":
            path, mode, flags = args
            if any(_inside(path, s) for s in secret):
                raise PermissionError(f"sandbox: reading {path!r} is not allowed")
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writes and not _inside(path, root):
                raise PermissionError(f"sandbox: writing {path!r} outside the work dir")
        elif (
            event in _PATH_EVENTS
            and args
            and not all(_inside(a, root) for a in args if isinstance(a, str | bytes | os.PathLike))
        ):
            raise PermissionError(f"sandbox: {event} outside the work dir")

    sys.addaudithook(hook)
