"""The sandbox fails closed, and its opt-in fallback withstands the issue's attacks.

Fallback runs (``mode="fallback"``) get what a kernel without namespaces or
Landlock gives: rlimits, seccomp, and the audit hook in a fresh interpreter.
Every attack from issue 16 is tried against it, and most against auto mode too.
The fail-closed tests run the supervisor under a seccomp filter that takes
namespaces and Landlock away, as a restrictive container would.
"""

from __future__ import annotations

import dis
import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from types import CodeType

import pytest

from worldgym.gym.sandbox import Limits, run_python
from worldgym.gym.sandbox.runner import ALLOW_FALLBACK_ENV, CHILD

FAST = Limits(wall_s=5, cpu_s=2, memory_mb=256)
MODES = ["auto", "fallback"]
pytestmark = pytest.mark.usefixtures("sandbox_unharmed")
ROOT = Path(__file__).resolve().parents[2]


def _run(program: str, mode: str, data: object = None) -> tuple[str, str]:
    result = run_python(textwrap.dedent(program), data, limits=FAST, mode=mode)  # type: ignore[arg-type]
    if mode == "fallback":
        assert "audit-hook" in result.layers
        assert "seccomp" in result.layers
    return result.stdout.decode(), result.stderr.decode()


def _hook_code() -> list[CodeType]:
    sys.path.insert(0, str(CHILD.parent))
    try:
        import _child_audit
    finally:
        sys.path.pop(0)
    hook = _child_audit.make_hook("/tmp", ["/root/.ssh"], ["/usr"])
    codes = [hook.__code__]
    for cell in hook.__closure__ or ():
        value = cell.cell_contents
        if callable(value) and hasattr(value, "__code__"):
            codes.append(value.__code__)
    return codes


def test_the_hook_reads_no_global_and_no_builtin() -> None:
    """What the program can rebind (modules, builtins) the hook never looks up."""
    loads = [
        (code.co_name, ins.argval)
        for code in _hook_code()
        for ins in dis.get_instructions(code)
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")
    ]
    assert loads == []


TAMPER = """
import builtins, os, os.path, sys
for name, module in list(sys.modules.items()):
    if name.startswith("_child") and hasattr(module, "__dict__"):
        module.__dict__.clear()
builtins.isinstance = lambda *a: True
builtins.type = lambda *a: str
builtins.PermissionError = ValueError
os.path.realpath = lambda p: os.getcwd() + "/x"
os.getcwd = lambda: "/tmp"
"""


@pytest.mark.parametrize("mode", MODES)
def test_tampering_with_modules_and_builtins_changes_nothing(
    mode: str, outside_dir: Path, keystore: Path
) -> None:
    target = outside_dir / f"pwned-{uuid.uuid4().hex}"
    secret = json.loads(keystore.read_text())["secret"]
    program = (
        TAMPER
        + f"""
for attempt, action in [
    ("write", lambda: open({str(target)!r}, "w").write("x")),
    ("read", lambda: open({str(keystore)!r}).read()),
    ("socket", lambda: __import__("socket").socket()),
    ("fork", lambda: os.fork()),
]:
    try:
        print(attempt, "SUCCEEDED", action())
    except Exception as exc:
        print(attempt, "denied", type(exc).__name__)
"""
    )
    out, err = _run(program, mode)
    assert "SUCCEEDED" not in out, out + err
    assert out.count("denied") == 4
    assert not target.exists()
    assert secret not in out + err


@pytest.mark.parametrize("mode", MODES)
def test_the_validator_s_proc_entries_are_out_of_reach(mode: str) -> None:
    program = """
import os
me = SANDBOX_INPUT
for path in (f"/proc/{me}/environ", f"/proc/{me}/cmdline", f"/proc/{me}/mem"):
    try:
        print("READ", len(open(path, "rb").read()))
    except OSError as exc:
        print("denied", type(exc).__name__)
try:
    print("LISTED", len(os.listdir("/proc")))
except OSError as exc:
    print("denied", type(exc).__name__)
"""
    out, err = _run(program, mode, os.getpid())
    assert "READ" not in out, out + err
    assert "LISTED" not in out
    assert out.count("denied") == 4


@pytest.mark.parametrize("mode", MODES)
def test_pidfd_cannot_reach_the_validator(mode: str) -> None:
    program = """
import os, signal
me = SANDBOX_INPUT
attempts = [
    ("pidfd_open", lambda: os.pidfd_open(me)),
    ("kill", lambda: os.kill(me, 0)),
    ("posix again", lambda: __import__("_imp").create_builtin(
        __import__("importlib.machinery").machinery.ModuleSpec(
            "posix", __import__("importlib.machinery").machinery.BuiltinImporter)
    ).pidfd_open(me)),
]
for name, attempt in attempts:
    try:
        fd = attempt()
        signal.pidfd_send_signal(fd, signal.SIGTERM)
        print(name, "SIGNALLED")
    except Exception as exc:
        print(name, "denied", type(exc).__name__)
"""
    out, err = _run(program, mode, os.getpid())
    assert "SIGNALLED" not in out, out + err
    assert out.count("denied") == 3


@pytest.mark.parametrize("mode", MODES)
def test_no_daemon_is_left_behind(mode: str) -> None:
    program = """
import os, time
for start in (os.fork, lambda: os.posix_spawn("/bin/sleep", ["sleep", "60"], {})):
    try:
        if start() == 0:
            os.setsid()
            time.sleep(60)
            os._exit(0)
        print("STARTED")
    except Exception as exc:
        print("denied", type(exc).__name__)
"""
    out, err = _run(program, mode)
    assert "STARTED" not in out, out + err
    assert out.count("denied") == 2  # the autouse fixture checks nothing is left


def test_fallback_refuses_what_reaches_past_the_hook() -> None:
    program = """
import os
attempts = {
    "gc": lambda: __import__("gc").get_objects(),
    "ctypes": lambda: __import__("ctypes").CDLL(None),
    "subprocess": lambda: __import__("_posixsubprocess"),
    "testcapi": lambda: __import__("_testcapi"),
    "marshal": lambda: __import__("marshal").loads(b"N"),
    "code": lambda: (lambda: 0).__code__.replace(co_name="x"),
    "settrace": lambda: __import__("sys").settrace(lambda *a: None),
    "rlimit": lambda: __import__("resource"),
    "dir_fd": lambda: os.open("x", os.O_CREAT | os.O_WRONLY, dir_fd=os.open("/usr", 0)),
    "symlink": lambda: os.symlink("/etc/shadow", "link"),
    "climb": lambda: open("../../../etc/hostname").read(),
    "device": lambda: os.mknod("disk", 0o600 | 0o060000, os.makedev(8, 0)),
    "loader": lambda: __import__("_imp").create_dynamic,
}
for name, attempt in attempts.items():
    try:
        attempt()
        print(name, "ALLOWED")
    except Exception as exc:
        print(name, "denied", type(exc).__name__)
print("ctypes alive:", [c for c in object.__subclasses__() if c.__module__ == "_ctypes"])
"""
    out, err = _run(program, "fallback")
    assert "ALLOWED" not in out, out + err
    assert out.count("denied") == 13
    assert "ctypes alive: []" in out


def test_an_honest_program_runs_in_the_fallback() -> None:
    program = """
import bisect, collections, dataclasses, decimal, fractions, functools, hashlib, heapq
import itertools, json, math, random, re, statistics, string, threading, typing
box = []
worker = threading.Thread(target=lambda: box.append(math.comb(10, 3)))
worker.start()
worker.join()
open("scratch.txt", "w").write("ok")
print(box[0], open("scratch.txt").read(), statistics.mean([1, 2, 3]))
"""
    out, err = _run(program, "fallback")
    assert out.strip() == "120 ok 2", err


# --------------------------------------------------------------------------- fail closed

# A supervisor whose kernel gives neither namespaces nor Landlock: unshare and
# landlock_create_ruleset answer EPERM (as in a restrictive container).
_RESTRICTED = """
import ctypes, os, struct, sys, json
numbers = {"x86_64": (0xC000003E, 272), "aarch64": (0xC00000B7, 97)}[os.uname().machine]
arch, unshare = numbers
def insn(code, jt, jf, k):
    return struct.pack("=HBBI", code, jt, jf, k)
prog = [insn(0x20, 0, 0, 4), insn(0x15, 1, 0, arch), insn(0x06, 0, 0, 0x7FFF0000),
        insn(0x20, 0, 0, 0)]
for number in (unshare, 444):
    prog += [insn(0x15, 0, 1, number), insn(0x06, 0, 0, 0x00050001)]
prog.append(insn(0x06, 0, 0, 0x7FFF0000))
code = b"".join(prog)
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(38, 1, 0, 0, 0) == 0
assert libc.prctl(22, 2, ctypes.byref(Fprog(len(code) // 8, code)), 0, 0) == 0
from worldgym.gym.errors import SandboxError
from worldgym.gym.sandbox import run_python
try:
    result = run_python("print('ran')")
    print(json.dumps({"layers": list(result.layers), "stdout": result.stdout.decode()}))
except SandboxError as exc:
    print(json.dumps({"refused": str(exc)}))
"""


def _restricted(allow_fallback: bool) -> dict[str, object]:
    if os.uname().machine not in ("x86_64", "aarch64"):
        pytest.skip("the restricting filter is written for x86_64 and aarch64")
    env = {k: v for k, v in os.environ.items() if k != ALLOW_FALLBACK_ENV}
    if allow_fallback:
        env[ALLOW_FALLBACK_ENV] = "1"
    done = subprocess.run(
        [sys.executable, "-c", _RESTRICTED], capture_output=True, text=True, cwd=ROOT, env=env,
        timeout=120, check=True,
    )  # fmt: skip
    reply: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return reply


def test_without_kernel_isolation_nothing_runs() -> None:
    reply = _restricted(allow_fallback=False)
    assert "refused" in reply, reply
    assert "no kernel isolation" in str(reply["refused"])
    assert ALLOW_FALLBACK_ENV in str(reply["refused"])


def test_the_operator_can_opt_into_the_fallback() -> None:
    reply = _restricted(allow_fallback=True)
    assert reply.get("stdout") == "ran\n", reply
    layers = reply["layers"]
    assert isinstance(layers, list)
    assert "audit-hook" in layers
    assert "seccomp" in layers
    assert "landlock-fs" not in layers
    assert "netns" not in layers
