"""One key, one process: a second process signing with the same key is refused, by name."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from worldgym.client.errors import KeyInUseError
from worldgym.client.keylock import KeyLock, lock_path

ADDRESS = "0x000000000000000000000000000000000000dEaD"


def _path(tmp_path: Path, address: str = ADDRESS) -> Path:
    return lock_path(tmp_path / "locks", 31337, "0xGym", address)


def test_a_second_holder_is_refused_until_the_first_lets_go(tmp_path: Path) -> None:
    first = KeyLock(_path(tmp_path), ADDRESS).acquire()
    with pytest.raises(KeyInUseError, match=r"already in use on this deployment by pid \d+"):
        KeyLock(_path(tmp_path), ADDRESS).acquire()
    first.release()
    with KeyLock(_path(tmp_path), ADDRESS) as again:
        assert again.held


def test_other_keys_and_other_deployments_do_not_conflict(tmp_path: Path) -> None:
    with KeyLock(_path(tmp_path), ADDRESS):
        other = "0x" + "11" * 20
        assert KeyLock(_path(tmp_path, other), other).acquire().held
        elsewhere = lock_path(tmp_path / "locks", 1, "0xGym", ADDRESS)
        assert KeyLock(elsewhere, ADDRESS).acquire().held


def test_another_process_holding_the_key_is_named_and_its_death_frees_it(tmp_path: Path) -> None:
    path = _path(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from worldgym.client.keylock import KeyLock; "
         f"lock = KeyLock(Path({str(path)!r}), {ADDRESS!r}).acquire(); print('held', flush=True); "
         "time.sleep(60)"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"held"
        with pytest.raises(KeyInUseError) as refused:
            KeyLock(path, ADDRESS).acquire()
        assert f"pid {holder.pid}" in str(refused.value)
        assert "-c" in str(refused.value)  # the holder's command line
    finally:
        holder.kill()  # a crash, not a clean exit: the kernel drops the lock
        holder.wait()
    deadline = time.monotonic() + 5
    while True:
        try:
            KeyLock(path, ADDRESS).acquire()
            break
        except KeyInUseError:
            assert time.monotonic() < deadline, "a dead holder's lock must go"
            time.sleep(0.05)


def test_passwords_never_appear_in_the_holder_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["worldgym", "claim", "--password-file", "/secret/pw"])
    with KeyLock(_path(tmp_path), ADDRESS):
        text = _path(tmp_path).read_text()
    assert "/secret/pw" not in text
    assert "worldgym claim" in text
