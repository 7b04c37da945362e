"""The fallback's last step: run the program in a fresh interpreter that never loaded ctypes.

The setup code needs ``ctypes`` (prctl, seccomp), and ``ctypes`` cannot be
unloaded: its types stay reachable through ``object.__subclasses__`` and can
make a function pointer from any address, past any audit hook. So in the
fallback the worker, once confined (limits, identity, seccomp), replaces
itself with ``python -I -S -B -X pycache_prefix=... -c BOOTSTRAP``:

* the bootstrap reads its payload (the audit hook's source, the program, its
  input, the paths) from a memfd, installs the hook, and runs the program; no
  ``ctypes`` is ever imported in that process, and the hook forbids importing it;
* ``pycache_prefix`` points at a directory that does not exist, so imports
  compile sources instead of loading bytecode, and the hook can forbid
  ``marshal.loads`` and ``code.__new__`` (crafted bytecode reads and writes
  memory);
* seccomp already forbids ``execve``, except with the one path pointer this
  module passes: only this exec gets through.

Standard library only.
"""

from __future__ import annotations

import ctypes
import marshal
import os
import sys

import _child_seccomp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["exec_fresh"]

NO_PYCACHE = "/nonexistent-worldgym-pycache"
AUDIT_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_child_audit.py")

BOOTSTRAP = """
import marshal, os, sys
fd = int(sys.argv[2])
chunks = []
while True:
    chunk = os.read(fd, 1 << 16)
    if not chunk:
        break
    chunks.append(chunk)
os.close(fd)
payload = marshal.loads(b"".join(chunks))
audit = {"__name__": "_child_audit"}
exec(compile(payload["audit"], "_child_audit.py", "exec"), audit)
audit["install"](payload["workdir"], payload["hide"], payload["readable"])
del audit, chunks, fd
namespace = {"__name__": "__main__", "__builtins__": __builtins__}
namespace["SANDBOX_INPUT"] = payload["input"]
program = payload["program"]
del payload
code = 0
try:
    exec(compile(program, "<sandbox>", "exec"), namespace)
except SystemExit as exc:
    code = exc.code if type(exc.code) is int else 1
except BaseException:
    sys.__excepthook__(*sys.exc_info())
    code = 1
for stream in (sys.stdout, sys.stderr):
    try:
        stream.flush()
    except (OSError, ValueError):
        code = code or 1
os._exit(code)
"""


def exec_fresh(
    config: dict[str, Any], workdir: str, readable: list[str], ready: Callable[[], None]
) -> None:
    """Install seccomp (exec allowed for one pointer), call ``ready``, become the fresh interpreter.

    ``ready`` reports the layers and closes the trusted status pipe; after it,
    only the exec is left.

    Raises:
        OSError: seccomp or the exec failed (the latter after ``ready``).
    """
    with open(AUDIT_SOURCE, encoding="utf-8") as handle:
        audit_source = handle.read()
    payload = marshal.dumps(
        {
            "audit": audit_source,
            "program": config["program"],
            "input": config["input"],
            "workdir": workdir,
            "hide": config["hide"],
            "readable": readable,
        }
    )
    fd = os.memfd_create("worldgym-sandbox", 0)  # inheritable: no MFD_CLOEXEC
    os.write(fd, payload)
    os.lseek(fd, 0, os.SEEK_SET)
    args = [
        sys.executable, "-I", "-S", "-B", "-X", f"pycache_prefix={NO_PYCACHE}",
        "-c", BOOTSTRAP, "worldgym-sandbox", str(fd),
    ]  # fmt: skip
    path = ctypes.create_string_buffer(os.fsencode(sys.executable))
    argv = (ctypes.c_char_p * (len(args) + 1))(*[os.fsencode(a) for a in args], None)
    env = [os.fsencode(f"{k}={v}") for k, v in os.environ.items()]
    envp = (ctypes.c_char_p * (len(env) + 1))(*env, None)
    libc = ctypes.CDLL(None, use_errno=True)
    execve = libc.execve
    _child_seccomp.install(exec_path=ctypes.addressof(path))
    ready()
    execve(path, argv, envp)
    code = ctypes.get_errno()
    raise OSError(code, f"execve of the fresh interpreter: {os.strerror(code)}")
