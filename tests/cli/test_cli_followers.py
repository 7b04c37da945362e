"""The ledger follower and the dashboard outlive the node: `devnet down`, wait, `devnet up`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cli_helpers import run as _run

pytestmark = pytest.mark.slow


def _start(home: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WORLDGYM_CONFIG": str(home / "config.toml")}
    with open(home / f"{name}.log", "wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "worldgym.cli.app", *args], env=env, stdout=sink, stderr=sink
        )


def _wait_for(home: Path, name: str, pattern: str, proc: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 90
    while True:
        text = (home / f"{name}.log").read_text(errors="replace")
        if re.search(pattern, text, re.DOTALL):
            return text
        assert proc.poll() is None, f"{name} exited:\n{text}"
        assert time.monotonic() < deadline, f"{name} never printed {pattern!r}:\n{text}"
        time.sleep(0.3)


def test_the_follower_and_the_dashboard_wait_out_a_node_restart(home: Path) -> None:
    assert _run("devnet", "up", "--block-time", "0.5")[0] == 0
    follower = _start(home, "follower", "ledger", "sync", "--follow", "--every", "1")
    board = _start(home, "dashboard", "dashboard", "--sync-every", "1")
    try:
        _wait_for(home, "follower", r"indexed blocks", follower)
        url = re.search(r"(http://127\.0\.0\.1:\d+/)", _wait_for(
            home, "dashboard", r"dashboard at http", board)).group(1)  # type: ignore[union-attr]  # fmt: skip
        assert _run("devnet", "down")[0] == 0
        _wait_for(home, "follower", r"waiting for the RPC node", follower)
        _wait_for(home, "dashboard", r"not syncing, still serving", board)
        with urllib.request.urlopen(url + "api/status", timeout=10) as page:  # still serving
            assert page.status == 200
        time.sleep(5)
        assert follower.poll() is None
        assert board.poll() is None
        assert _run("devnet", "up")[0] == 0
        text = _wait_for(home, "follower", r"back after .*indexed blocks", follower)
        assert "Traceback" not in text
        _wait_for(home, "dashboard", r"syncing again", board)
    finally:
        for proc in (follower, board):
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
