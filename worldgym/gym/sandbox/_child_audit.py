"""The fallback layer for files: a CPython audit hook the program cannot switch off.

Used only where the kernel offers no Landlock or namespaces and the operator
allowed the fallback (worldgym/gym/README.md, "Sandbox"). seccomp still refuses new
processes, signals, pidfds and sockets in the kernel, and the program runs in a
fresh interpreter that never loaded ``ctypes`` (``_child_fresh.py``); this hook
adds, from inside that interpreter, what Landlock would have done for files:

* reads only under the allowed roots (the system directories, the Python
  installation, the work dir), never under a hidden path or ``/proc``;
* writes, renames, removals, mode changes only inside the work dir; no links;
* no directories outside the work dir as descriptors (``dir_fd`` tricks), no
  device files but ``/dev/null``, ``/dev/zero``, ``/dev/urandom``; no relative
  path that climbs with ``..``;
* no sockets, processes, signals, rlimit changes, tracing or profiling (a trace
  function could rewrite the hook's variables while it runs), no ``marshal``
  or new code objects (crafted bytecode reads and writes memory), and no import
  of the modules that would reach past it (``gc``, ``ctypes``,
  ``_posixsubprocess``, ``_testcapi``, ...).

**Its state cannot be reached from the program.** The hook is a closure whose
every free variable is an immutable value or a C function bound when it is
installed (``posix.lstat``, ``str``, ``PermissionError``): it looks up no
global and no builtin (``tests/gym/test_gym_sandbox_fallback.py`` checks its
bytecode), so emptying modules, ``sys.modules`` or ``builtins`` changes
nothing. Frames show its variables read-only; its cells could only be rebound
through ``gc`` or a trace function, and neither is available: ``gc`` cannot be
imported nor created again (``_imp.create_builtin`` and ``_imp.create_dynamic``
are removed once the modules a program may need are loaded, :data:`PRELOAD`).

It remains weaker than the kernel layers (a memory-safety bug in CPython or a
C extension could bypass an audit hook), which is why a run reports it as
``audit-hook`` and the sandbox refuses to rely on it unless the operator opted
in. Standard library only.
"""

from __future__ import annotations

import os
import posix
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~3 ms per run
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["PRELOAD", "install", "make_hook"]

FORBIDDEN_EVENTS = frozenset(
    {
        "os.fork", "os.forkpty", "os.posix_spawn", "os.exec", "os.spawn", "os.system",
        "os.kill", "os.killpg", "os.link", "os.symlink", "os.chroot", "os.setuid",
        "subprocess.Popen", "_posixsubprocess.fork_exec", "signal.pthread_kill",
        "socket.__new__", "socket.connect", "socket.bind", "socket.sendto",
        "socket.getaddrinfo", "socket.gethostbyname", "sys.setprofile", "sys.settrace",
        "marshal.loads", "marshal.load", "code.__new__", "resource.setrlimit",
        "resource.prlimit", "sys.addaudithook",
    }
)  # fmt: skip
FORBIDDEN_IMPORTS = frozenset(
    {
        "gc", "ctypes", "_ctypes", "_posixsubprocess", "subprocess", "multiprocessing",
        "_multiprocessing", "_posixshmem", "mmap", "_socket", "socket", "_ssl", "_sqlite3",
        "_testcapi", "_testinternalcapi", "_testbuffer", "_testmultiphase", "_testclinic",
        "_testimportmultiple", "_ctypes_test", "_xxsubinterpreters", "_xxtestfuzz",
        "_tracemalloc", "faulthandler", "readline", "_curses", "_tkinter", "resource",
        "fcntl", "termios", "pty",
    }
)  # fmt: skip
#: write events: (indices of path arguments, indices of dir_fd arguments)
WRITE_EVENTS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "os.remove": ((0,), (1,)),
    "os.rmdir": ((0,), (1,)),
    "os.rename": ((0, 1), (2, 3)),
    "os.mkdir": ((0,), (2,)),
    "os.chmod": ((0,), (2,)),
    "os.chown": ((0,), (3,)),
    "os.utime": ((0,), (3,)),
    "os.truncate": ((0,), ()),
    "os.chflags": ((0,), ()),
    "os.setxattr": ((0,), ()),
    "os.removexattr": ((0,), ()),
    "shutil.rmtree": ((0,), (1,)),
}
LIST_EVENTS = frozenset({"os.listdir", "os.scandir", "os.chdir", "os.listxattr"})
DEVICES = frozenset({"/dev/null", "/dev/zero", "/dev/urandom"})
#: extension modules a program may need, loaded before the loaders are removed
PRELOAD = (
    "math", "cmath", "_random", "_bisect", "_heapq", "_json", "_datetime", "_decimal",
    "array", "binascii", "_struct", "zlib", "unicodedata", "_statistics", "_contextvars",
    "_pickle", "_sha1", "_sha256", "_sha512", "_sha3", "_md5", "_blake2", "_queue", "_csv",
    "_typing", "_opcode", "_zoneinfo", "select", "_hashlib", "_bz2", "_lzma", "pyexpat",
    "_elementtree", "_multibytecodec", "_uuid", "grp",
)  # fmt: skip
_FS_ENCODING = sys.getfilesystemencoding()


def make_hook(workdir: str, hidden: list[str], readable: list[str]) -> Callable[[str, Any], None]:
    """The audit hook; everything it uses is bound here (see the module docstring)."""
    root = os.path.realpath(workdir)
    hidden_roots = tuple(os.path.realpath(path) for path in hidden)
    read_roots = (*tuple(os.path.realpath(path) for path in readable), root)
    forbidden, bad_imports = FORBIDDEN_EVENTS, FORBIDDEN_IMPORTS
    write_events, list_events, devices = dict(WRITE_EVENTS), LIST_EVENTS, DEVICES
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    lstat, stat, readlink, getcwd = posix.lstat, posix.stat, posix.readlink, posix.getcwd
    str_, bytes_, int_, type_, len_ = str, bytes, int, type, len
    denied, os_error = PermissionError, OSError
    encoding, fmt_mask, link_bits, dir_bits = _FS_ENCODING, 0o170000, 0o120000, 0o040000
    chr_bits, blk_bits = 0o020000, 0o060000

    def text(path: Any) -> Any:
        kind = type_(path)
        if kind is str_:
            return path
        if kind is bytes_:
            return path.decode(encoding, "surrogateescape")
        return None

    def resolve(path: str) -> Any:
        """The absolute path with every symlink followed; None where that is not safe."""
        if not path.startswith("/"):
            if ".." in path.split("/"):
                return None
            path = getcwd() + "/" + path
        pending = path.split("/")
        pending.reverse()
        parts: list[str] = []
        hops = 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
            current = "/" + "/".join(parts)
            try:
                mode = lstat(current).st_mode
            except os_error:
                continue  # does not exist (yet): the rest is taken literally
            if mode & fmt_mask == link_bits:
                hops += 1
                if hops > 40:
                    return None
                target = readlink(current)
                parts.pop()
                if target.startswith("/"):
                    parts.clear()
                more = target.split("/")
                more.reverse()
                pending.extend(more)
        return "/" + "/".join(parts)

    def under(path: str, roots: tuple[str, ...]) -> bool:
        for top in roots:  # noqa: SIM110 - any() would be a builtin looked up at call time
            if path == top or path.startswith(top + "/"):
                return True
        return False

    def refuse(why: str) -> Any:
        return denied("sandbox: " + why)

    def checked(event: str, raw: Any, write: bool) -> Any:
        name = text(raw)
        if name is None:
            raise refuse(event + " needs a plain str or bytes path here")
        real = resolve(name)
        if real is None:
            raise refuse(event + ": path " + name[:200] + " cannot be resolved safely")
        if under(real, hidden_roots):
            raise refuse(event + ": " + real[:200] + " is hidden")
        if write and not under(real, (root,)):
            raise refuse(event + ": writing " + real[:200] + " outside the work dir")
        if not under(real, read_roots):
            raise refuse(event + ": " + real[:200] + " is outside the readable directories")
        return real

    def hook(event: str, args: Any) -> None:
        if event in forbidden or event.startswith("ctypes."):
            raise refuse(event + " is not allowed")
        if event == "open":
            path, mode, flags = args
            if type_(path) is int_:
                return  # a descriptor: it was checked when it was opened
            writes = type_(flags) is int_ and flags & write_flags != 0
            if type_(mode) is str_:
                writes = writes or "w" in mode or "a" in mode or "x" in mode or "+" in mode
            real = checked("open", path, writes)
            try:
                kind = stat(real).st_mode & fmt_mask
            except os_error:
                return
            if kind == dir_bits and not under(real, (root,)):
                raise refuse("open: directories outside the work dir cannot be opened")
            if (kind in (chr_bits, blk_bits)) and real not in devices:
                raise refuse("open: device " + real[:200] + " is not allowed")
        elif event == "import":
            name = args[0]
            if type_(name) is not str_ or name in bad_imports or name.split(".")[0] in bad_imports:
                raise refuse("importing " + str_(name)[:100] + " is not allowed")
        elif event in write_events:
            paths, dir_fds = write_events[event]
            for index in dir_fds:
                if index < len_(args) and args[index] not in (None, -1):
                    raise refuse(event + " with dir_fd is not allowed")
            for index in paths:
                checked(event, args[index], True)
        elif event in list_events and args and type_(args[0]) is not int_:
            checked(event, "." if args[0] is None else args[0], False)

    return hook


def _preload() -> None:
    """Import the builtin and extension modules a program may need, while loaders exist."""
    for name in (*sys.builtin_module_names, *PRELOAD):
        if name not in FORBIDDEN_IMPORTS and name not in sys.modules:
            try:  # noqa: SIM105 - contextlib would be one more module to compile per run
                __import__(name)
            except ImportError:
                pass  # not built on this interpreter


def install(workdir: str, hidden: list[str], readable: list[str]) -> None:
    """Load what programs need, install the hook (it cannot be removed), remove the loaders."""
    _preload()
    sys.addaudithook(make_hook(workdir, hidden, readable))
    imp = sys.modules["_imp"]
    for name in ("create_builtin", "create_dynamic", "exec_builtin", "exec_dynamic"):
        if hasattr(imp, name):
            delattr(imp, name)
    for module_name, names in (("posix", ("pidfd_open",)), ("os", ("pidfd_open",)),
                               ("_signal", ("pidfd_send_signal",)),
                               ("signal", ("pidfd_send_signal",))):  # fmt: skip
        module = sys.modules.get(module_name)
        for name in names:
            if module is not None and hasattr(module, name):
                delattr(module, name)
