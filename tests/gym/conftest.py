"""Fixtures shared by the sandbox tests: a directory outside /tmp, a keystore, a clean machine."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

#: what a sandbox process has on its command line (the child, or the fallback's interpreter)
SANDBOX_MARKERS = (b"_child_main.py", b"worldgym-sandbox")


def sandbox_processes() -> set[int]:
    """Pids of sandbox processes still alive (by their command line)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if any(marker in cmdline for marker in SANDBOX_MARKERS):
            pids.add(int(entry.name))
    return pids


def _available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    raise AssertionError("no MemAvailable in /proc/meminfo")


@pytest.fixture
def outside_dir() -> Iterator[Path]:
    """A private directory outside /tmp (which the sandbox replaces), removed afterwards."""
    base = Path("/var/lib") if os.geteuid() == 0 else Path.home() / ".cache"
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="worldgym-sandbox-test-", dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def keystore(outside_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A validator keystore where the real one lives: $HOME/.config/worldgym/keystore, mode 0600."""
    monkeypatch.setenv("HOME", str(outside_dir))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(outside_dir / ".config"))
    directory = outside_dir / ".config" / "worldgym" / "keystore"
    directory.mkdir(parents=True)
    key = directory / "validator.json"
    key.write_text(json.dumps({"secret": "KEYSTORE-SECRET-" + uuid.uuid4().hex}))
    key.chmod(0o600)
    return key


@pytest.fixture
def sandbox_unharmed() -> Iterator[None]:
    """The test must leave no sandbox process behind and the memory where it was."""
    before = _available_kib()
    yield
    deadline = time.monotonic() + 2
    while sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not sandbox_processes(), "a sandbox process outlived its run"
    assert _available_kib() > before - 512 * 1024, "memory was not given back"
