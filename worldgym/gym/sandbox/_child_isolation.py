"""Kernel isolation for the sandbox child: namespaces, mounts, privileges, resource limits.

Runs inside the sandbox's own process (see ``_child_main.py``), standard library
only, before any untrusted code. Every step reports whether it worked; what did
not is recorded and the caller falls back (see worldgym/gym/README.md, "Sandbox").
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import sys

__all__ = [
    "NOBODY",
    "clear_capabilities",
    "drop_privileges",
    "enter_namespaces",
    "libc",
    "make_private_root",
    "set_limits",
    "set_no_new_privs",
    "set_parent_death_signal",
]

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

NOBODY = 65534
PRIVATE_TMP = "/tmp"
SANDBOX_WORK = "/tmp/work"
SANDBOX_PYTHON = "/tmp/.python"

libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def set_parent_death_signal() -> None:
    """Die with SIGKILL if the parent dies, so nothing outlives a crashed supervisor."""
    _check(libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0), "prctl(PDEATHSIG)")


def set_no_new_privs() -> None:
    """No setuid binaries or file capabilities from here on (also required by Landlock)."""
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def enter_namespaces() -> tuple[list[str], list[str]]:
    """Unshare network, mount, PID, IPC and UTS namespaces; returns (layers, notes).

    As root the namespaces are created directly. Otherwise a user namespace is
    created first, mapping our uid and gid to themselves. On EPERM/EINVAL (a
    kernel or container that forbids it) smaller sets are tried, down to none.
    """
    base = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    root = os.geteuid() == 0
    extra = 0 if root else CLONE_NEWUSER
    attempts = [base, CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID, CLONE_NEWNET]
    notes: list[str] = []
    uid, gid = os.getuid(), os.getgid()
    for flags in attempts:
        if libc.unshare(flags | extra) == 0:
            if not root:
                _write("/proc/self/setgroups", "deny")
                _write("/proc/self/uid_map", f"{uid} {uid} 1")
                _write("/proc/self/gid_map", f"{gid} {gid} 1")
            names = {
                CLONE_NEWNET: "netns",
                CLONE_NEWNS: "mountns",
                CLONE_NEWPID: "pidns",
                CLONE_NEWIPC: "ipcns",
                CLONE_NEWUTS: "utsns",
            }
            layers = [name for bit, name in names.items() if flags & bit]
            return (layers if root else ["userns", *layers]), notes
        code = ctypes.get_errno()
        notes.append(f"unshare({flags | extra:#x}) failed: {errno.errorcode.get(code, code)}")
        if code not in (errno.EPERM, errno.EINVAL, errno.ENOSPC, errno.EUSERS):
            break
    return [], notes


def _mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None
) -> None:
    def encode(text: str | None) -> bytes | None:
        return text.encode() if text is not None else None

    result = libc.mount(
        encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)
    )
    _check(result, f"mount {target}")


def make_private_root(hide: list[str], tmpfs_mb: int, owner: int) -> tuple[str, list[str]]:
    """In a fresh mount namespace: private /tmp, /var/tmp, /dev/shm; secrets hidden; stdlib visible.

    * every existing world-writable scratch dir gets an empty private tmpfs,
      so nothing written there reaches the host;
    * each path in ``hide`` (the keystore dir, ...) is covered by an empty
      read-only tmpfs (a file by ``/dev/null``);
    * the Python installation is bind-mounted read-only at ``/tmp/.python`` and
      ``sys.path`` is pointed there, so an unprivileged uid can import the
      standard library even when it lives under a 0700 home (``/root/.pyenv``).

    Returns the working directory inside the namespace and notes on what failed.
    """
    notes: list[str] = []
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    prefix = os.path.realpath(sys.base_prefix)
    prefix_fd = os.open(prefix, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for path in (PRIVATE_TMP, "/var/tmp", "/dev/shm"):
            if os.path.isdir(path):
                size = tmpfs_mb if path == PRIVATE_TMP else 1
                _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size}m,mode=1777")
        os.makedirs(SANDBOX_PYTHON)
        _mount(f"/proc/self/fd/{prefix_fd}", SANDBOX_PYTHON, None, MS_BIND | MS_REC, None)
        _mount(None, SANDBOX_PYTHON, None, MS_BIND | MS_REMOUNT | MS_RDONLY, None)
    finally:
        os.close(prefix_fd)
    _relocate_imports(prefix, SANDBOX_PYTHON)
    os.mkdir(SANDBOX_WORK, 0o700)
    os.chown(SANDBOX_WORK, owner, owner)
    for path in hide:
        try:
            if os.path.isdir(path):
                _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0")
            elif os.path.exists(path):
                _mount("/dev/null", path, None, MS_BIND, None)
        except OSError as exc:
            notes.append(f"could not hide {path}: {exc.strerror}")
    return SANDBOX_WORK, notes


def _relocate_imports(old: str, new: str) -> None:
    """Point ``sys.path`` and the ``__path__`` of imported packages from ``old`` to ``new``."""

    def move(entry: str) -> str:
        return new + entry[len(old) :] if entry == old or entry.startswith(old + os.sep) else entry

    sys.path[:] = [move(entry) for entry in sys.path]
    for module in list(sys.modules.values()):
        path = getattr(module, "__path__", None)
        if isinstance(path, list):
            path[:] = [move(entry) for entry in path]
    sys.path_importer_cache.clear()


def drop_privileges(uid: int = NOBODY, gid: int = NOBODY) -> None:
    """Become ``uid``/``gid`` with no supplementary groups (root only); capabilities go with it."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() != uid or os.getegid() != gid:
        raise OSError(errno.EPERM, "privilege drop did not take effect")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def clear_capabilities() -> None:
    """Empty the effective, permitted and inheritable sets (a user namespace grants them all)."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


def set_limits(cpu_s: int, memory_mb: int, file_mb: int, processes: int, open_files: int) -> None:
    """CPU seconds, address space, file size, processes (per uid) and open files; no core dumps."""
    limits = {
        resource.RLIMIT_CPU: (cpu_s, cpu_s + 1),
        resource.RLIMIT_AS: (memory_mb << 20, memory_mb << 20),
        resource.RLIMIT_FSIZE: (file_mb << 20, file_mb << 20),
        resource.RLIMIT_NPROC: (processes, processes),
        resource.RLIMIT_NOFILE: (open_files, open_files),
        resource.RLIMIT_CORE: (0, 0),
    }
    for which, value in limits.items():
        resource.setrlimit(which, value)
