"""seccomp for the sandbox child: no new processes, signals, sockets or kernel escape hatches.

A classic BPF filter (Linux >= 3.5, unprivileged under ``no_new_privs``)
installed right before the program runs. It refuses with ``EPERM``:

* creating processes: ``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD``
  (threads are fine), ``execve``, ``execveat``; ``clone3`` answers ``ENOSYS``
  so the C library falls back to ``clone``, whose flags the filter can read;
* reaching other processes: ``kill``, ``tkill``, ``tgkill`` to anyone but
  itself, ``rt_(tg)sigqueueinfo``, the ``pidfd_*`` calls, ``ptrace``,
  ``process_vm_readv/writev``, ``process_madvise``, ``kcmp``;
* the network and IPC endpoints: ``socket``, ``socketpair``;
* namespaces, mounts, device nodes, keys, BPF, perf, userfaultfd, io_uring,
  file handles, ``personality`` and module loading.

Nothing the program starts can outlive it (it cannot start anything), and it
cannot signal the validator by pid or pidfd. The filter survives ``execve``;
the fallback passes one pointer through it (see :func:`install`). x86_64 and aarch64 only; elsewhere
:func:`install` raises and the caller decides. Standard library only.
"""

from __future__ import annotations

import ctypes
import os
import struct

__all__ = ["install"]

libc = ctypes.CDLL(None, use_errno=True)

PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
CLONE_THREAD = 0x00010000

_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000
_EPERM = 1
_ENOSYS = 38

_LD_ABS_W = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06  # BPF_RET | BPF_K

_OFFSET_NR = 0
_OFFSET_ARCH = 4
_OFFSET_ARG0_LOW = 16  # args[0], low 32 bits (little-endian)

_DENIED_NAMES = [
    "fork",
    "vfork",
    "execve",
    "execveat",
    "kill",
    "tkill",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "pidfd_open",
    "pidfd_send_signal",
    "pidfd_getfd",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "kcmp",
    "socket",
    "socketpair",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "open_by_handle_at",
    "name_to_handle_at",
    "personality",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "mknod",
    "mknodat",
]

# (audit arch, syscall numbers); aarch64 uses the generic table (no fork, vfork)
_ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (
        0xC000003E,
        {
            "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "kill": 62, "tkill": 200,
            "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297, "pidfd_open": 434,
            "pidfd_send_signal": 424, "pidfd_getfd": 438, "ptrace": 101,
            "process_vm_readv": 310, "process_vm_writev": 311, "process_madvise": 440,
            "kcmp": 312, "socket": 41, "socketpair": 53, "unshare": 272, "setns": 308,
            "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "keyctl": 250,
            "add_key": 248, "request_key": 249, "bpf": 321, "perf_event_open": 298,
            "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
            "io_uring_register": 427, "open_by_handle_at": 304, "name_to_handle_at": 303,
            "personality": 135, "init_module": 175, "finit_module": 313, "delete_module": 176,
            "kexec_load": 246, "mknod": 133, "mknodat": 259, "clone": 56, "clone3": 435,
        },
    ),
    "aarch64": (
        0xC00000B7,
        {
            "execve": 221, "execveat": 281, "kill": 129, "tkill": 130, "tgkill": 131,
            "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240, "pidfd_open": 434,
            "pidfd_send_signal": 424, "pidfd_getfd": 438, "ptrace": 117,
            "process_vm_readv": 270, "process_vm_writev": 271, "process_madvise": 440,
            "kcmp": 272, "socket": 198, "socketpair": 199, "unshare": 97, "setns": 268,
            "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "keyctl": 219,
            "add_key": 217, "request_key": 218, "bpf": 280, "perf_event_open": 241,
            "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426,
            "io_uring_register": 427, "open_by_handle_at": 265, "name_to_handle_at": 264,
            "personality": 92, "init_module": 105, "finit_module": 273, "delete_module": 106,
            "kexec_load": 104, "mknodat": 33, "clone": 220, "clone3": 435,
        },
    ),
}  # fmt: skip
_X32_BIT = 0x40000000


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF)


def _program(
    arch: int, numbers: dict[str, int], own_pid: int, exec_path: int | None
) -> list[bytes]:
    deny = _RET_ERRNO | _EPERM
    denied = sorted({numbers[name] for name in _DENIED_NAMES if name in numbers})
    prog = [
        _insn(_LD_ABS_W, 0, 0, _OFFSET_ARCH),
        _insn(_JEQ, 1, 0, arch),
        _insn(_RET, 0, 0, _RET_KILL_PROCESS),  # another ABI: nothing legitimate uses it
        _insn(_LD_ABS_W, 0, 0, _OFFSET_NR),
    ]
    if arch == _ARCHES["x86_64"][0]:
        prog += [_insn(_JGE, 0, 1, _X32_BIT), _insn(_RET, 0, 0, deny)]
    if exec_path is not None:  # execve only with this exact path pointer (64 bits, two words)
        prog += [
            _insn(_JEQ, 0, 6, numbers["execve"]),
            _insn(_LD_ABS_W, 0, 0, _OFFSET_ARG0_LOW),
            _insn(_JEQ, 0, 3, exec_path & 0xFFFFFFFF),
            _insn(_LD_ABS_W, 0, 0, _OFFSET_ARG0_LOW + 4),
            _insn(_JEQ, 0, 1, exec_path >> 32),
            _insn(_RET, 0, 0, _RET_ALLOW),
            _insn(_RET, 0, 0, deny),
        ]
    for number in denied:
        prog += [_insn(_JEQ, 0, 1, number), _insn(_RET, 0, 0, deny)]
    prog += [
        _insn(_JEQ, 0, 1, numbers["clone3"]),
        _insn(_RET, 0, 0, _RET_ERRNO | _ENOSYS),
        # clone: a thread (CLONE_THREAD set) is allowed, a process is not
        _insn(_JEQ, 0, 4, numbers["clone"]),
        _insn(_LD_ABS_W, 0, 0, _OFFSET_ARG0_LOW),
        _insn(_JSET, 1, 0, CLONE_THREAD),
        _insn(_RET, 0, 0, deny),
        _insn(_RET, 0, 0, _RET_ALLOW),
        # tgkill: only to itself (Python's own abort() and signal.raise_signal use it)
        _insn(_JEQ, 0, 4, numbers["tgkill"]),
        _insn(_LD_ABS_W, 0, 0, _OFFSET_ARG0_LOW),
        _insn(_JEQ, 1, 0, own_pid),
        _insn(_RET, 0, 0, deny),
        _insn(_RET, 0, 0, _RET_ALLOW),
        _insn(_RET, 0, 0, _RET_ALLOW),
    ]
    return prog


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def install(exec_path: int | None = None) -> None:
    """Install the filter on this process (inherited by its threads and across exec).

    Requires ``no_new_privs`` (set by the caller first). With ``exec_path``,
    ``execve`` is allowed when its path argument is exactly that pointer (the
    fallback's one exec into a fresh interpreter, :mod:`_child_fresh`).

    Raises:
        OSError: the architecture is not supported or the kernel refused the filter.
    """
    machine = os.uname().machine
    if machine not in _ARCHES:
        raise OSError(95, f"no seccomp filter for {machine}")
    arch, numbers = _ARCHES[machine]
    code = b"".join(_program(arch, numbers, os.getpid(), exec_path))
    fprog = _SockFprog(len(code) // 8, code)
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_SECCOMP): {os.strerror(errno)}")
