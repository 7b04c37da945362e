"""The sandbox: the six attacks of the issue are each scored 0 and leave the machine unharmed.

Fixtures (``outside_dir``, ``keystore``, ``sandbox_unharmed``) are in conftest.py.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from worldgym import gym
from worldgym.gym.environment import Environment
from worldgym.gym.sandbox import Limits, run_python
from worldgym.gym.sandbox._child_landlock import abi_version
from worldgym.gym.task import Task

CODE_SPEC = {
    "schema": "worldgym.env/1",
    "name": "sandbox-test",
    "generator": {"kind": "python_functions", "version": 1, "tests_per_task": 2},
    "extract": {"kind": "code_block"},
    "verifier": {"kind": "python_tests", "timeout_s": 3, "cpu_s": 1, "memory_mb": 256},
}
FAST = Limits(wall_s=3, cpu_s=1, memory_mb=256)
MODES = ["auto", "fallback"]
pytestmark = pytest.mark.usefixtures("sandbox_unharmed")


@pytest.fixture(scope="module")
def env() -> Environment:
    return gym.load_environment(gym.load_spec(json.dumps(CODE_SPEC).encode()))


@pytest.fixture(scope="module")
def task(env: Environment) -> Task:
    return env.task("0x" + "01" * 32, 1, 1, "0x" + "02" * 20, 0)


def _solution(task: Task, body: str) -> str:
    entry = task.metadata["entry_point"]
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return f"```python\ndef {entry}(*args):\n{indented}\n    return None\n```"


def _score_attack(env: Environment, task: Task, body: str) -> gym.Score:
    start = time.monotonic()
    score = env.score(task, _solution(task, body))
    assert time.monotonic() - start < 6, "an attack was not stopped in time"
    assert score.value == 0.0
    assert score.reason
    return score


def test_a_normal_program_runs_with_every_layer() -> None:
    result = run_python(
        "import os\nprint('hi', SANDBOX_INPUT, os.getcwd() == os.environ['HOME'])", 7
    )
    assert result.ok
    assert result.stdout == b"hi 7 True\n"
    if os.geteuid() == 0:
        assert {"netns", "pidns", "mountns", "private-tmp", "uid-nobody"} <= set(result.layers)
    if abi_version() >= 1:
        assert "landlock-fs" in result.layers
        assert "audit-hook" not in result.layers


def test_infinite_loop(env: Environment, task: Task) -> None:
    score = _score_attack(env, task, "while True:\n    pass")
    assert "SIGXCPU" in score.reason or "timed out" in score.reason


def test_sleeping_forever_hits_the_wall_clock(env: Environment, task: Task) -> None:
    score = _score_attack(env, task, "import time\ntime.sleep(1000)")
    assert "timed out" in score.reason


@pytest.mark.parametrize("mode", MODES)
def test_fork_bomb(mode: str) -> None:
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    result = run_python(bomb, limits=FAST, mode=mode)  # type: ignore[arg-type]
    assert not result.ok


def test_fork_bomb_scores_zero(env: Environment, task: Task) -> None:
    _score_attack(env, task, "import os\nwhile True:\n    os.fork()")


@pytest.mark.parametrize("mode", MODES)
def test_allocating_8_gib(mode: str) -> None:
    result = run_python("x = bytearray(8 << 30)\nprint('allocated')", limits=FAST, mode=mode)  # type: ignore[arg-type]
    assert b"allocated" not in result.stdout
    assert b"MemoryError" in result.stderr


def test_allocating_8_gib_scores_zero(env: Environment, task: Task) -> None:
    score = _score_attack(env, task, "x = bytearray(8 << 30)")
    assert "MemoryError" in score.reason


@pytest.mark.parametrize("mode", MODES)
def test_writing_outside_the_temp_dir(mode: str, outside_dir: Path, tmp_path: Path) -> None:
    scratch = Path(f"/tmp/worldgym-evil-{uuid.uuid4().hex}")
    targets = [outside_dir / "evil", tmp_path / "evil", scratch]
    program = "\n".join(
        f"try:\n    open({str(t)!r}, 'w').write('x')\nexcept OSError as e:\n    print('denied', e)"
        for t in targets
    )
    program += "\nopen('inside.txt', 'w').write('ok')\nprint(open('inside.txt').read())"
    result = run_python(program, limits=FAST, mode=mode)  # type: ignore[arg-type]
    assert result.ok
    lines = result.stdout.splitlines()
    assert sum(line.startswith(b"denied ") for line in lines) == len(targets)
    assert result.stdout.endswith(b"ok\n")
    for target in targets:
        assert not target.exists()


def test_writing_outside_scores_zero(env: Environment, task: Task, outside_dir: Path) -> None:
    target = outside_dir / "evil"
    _score_attack(env, task, f"open({str(target)!r}, 'w').write('x')")
    assert not target.exists()


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    yield server
    server.close()


def _nobody_connected(server: socket.socket) -> bool:
    try:
        connection, _ = server.accept()
    except TimeoutError:
        return True
    connection.close()
    return False


@pytest.mark.parametrize("mode", MODES)
def test_opening_a_network_socket(mode: str, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    program = (
        "import socket\n"
        f"s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\ns.settimeout(1)\n"
        f"s.connect(('127.0.0.1', {port}))\ns.sendall(b'exfiltrate')\nprint('connected')"
    )
    result = run_python(program, limits=FAST, mode=mode)  # type: ignore[arg-type]
    assert not result.ok
    assert b"connected" not in result.stdout
    assert _nobody_connected(listener)


def test_opening_a_socket_scores_zero(
    env: Environment, task: Task, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    _score_attack(env, task, f"import socket\nsocket.create_connection(('127.0.0.1', {port}), 1)")
    assert _nobody_connected(listener)


@pytest.mark.parametrize("mode", MODES)
def test_reading_the_validator_keystore(mode: str, keystore: Path) -> None:
    secret = json.loads(keystore.read_text())["secret"]
    program = f"print(open({str(keystore)!r}).read())"
    result = run_python(program, limits=FAST, mode=mode)  # type: ignore[arg-type]
    assert not result.ok
    assert secret.encode() not in result.stdout + result.stderr
    assert b"Permission" in result.stderr or b"No such file" in result.stderr


def test_reading_the_keystore_scores_zero(env: Environment, task: Task, keystore: Path) -> None:
    secret = json.loads(keystore.read_text())["secret"]
    body = f"return open({str(keystore)!r}).read()"
    score = _score_attack(env, task, body)
    assert secret not in score.reason


@pytest.mark.parametrize("mode", MODES)
def test_no_process_outlives_the_run(mode: str) -> None:
    program = (
        "import os, time\n"
        "try:\n    pid = os.fork()\nexcept OSError as e:\n    print('refused', e)\n"
        "else:\n    if pid == 0:\n        os.setsid()\n        time.sleep(60)\n"
        "print('parent done')"
    )
    result = run_python(program, limits=FAST, mode=mode)  # type: ignore[arg-type]
    assert result.ok
    assert b"refused" in result.stdout  # seccomp (or the hook) refuses new processes
    # the autouse fixture checks that no sandbox process is left


def test_output_is_capped() -> None:
    result = run_python(
        "import sys\nsys.stdout.write('x' * (1 << 22))", limits=Limits(output_bytes=1000)
    )
    assert result.truncated
    assert len(result.stdout) == 1000


def test_the_environment_is_minimal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLDGYM_PRIVATE_KEY", "0xdeadbeef")
    result = run_python("import os, json\nprint(json.dumps(dict(os.environ)))")
    environment = json.loads(result.stdout)
    assert "WORLDGYM_PRIVATE_KEY" not in environment
    assert set(environment) <= {"HOME", "TMPDIR", "PATH", "LANG", "LC_CTYPE"}
