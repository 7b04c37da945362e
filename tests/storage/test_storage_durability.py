"""A killed writer never leaves a bad block; concurrent writers (threads, processes) are safe."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from worldgym.storage import LocalStore, compute_cid

REPO = Path(__file__).resolve().parents[2]
CHUNK = 256 * 1024

# The child writes `count` distinct chunks as one put; after `announce` chunks it says
# "mid" and slows down, so the parent can kill it with blocks published *and* pending.
# With `stall` > 0, its `stall`-th os.write writes half a block, says "mid" and hangs:
# the kill then lands in the middle of writing a block.
_WRITER = """
import hashlib, os, sys, time
from worldgym.storage import LocalStore

root, count, announce, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
stall = int(sys.argv[5])
real_write, calls = os.write, [0]

def stalling_write(fd, data):
    calls[0] += 1
    if calls[0] == stall:
        real_write(fd, bytes(data[: len(data) // 2]))
        print("mid", flush=True)
        time.sleep(60)
    return real_write(fd, data)

if stall:
    os.write = stalling_write

def chunks():
    for i in range(count):
        if i == announce:
            print("mid", flush=True)
        if i >= announce:
            time.sleep(delay)
        yield hashlib.sha256(i.to_bytes(8, "big")).digest() * (256 * 1024 // 32)

print(LocalStore(root).put_stream(chunks()), flush=True)
"""


def _content(count: int) -> bytes:
    return b"".join(
        hashlib.sha256(i.to_bytes(8, "big")).digest() * (CHUNK // 32) for i in range(count)
    )


def _spawn(
    root: Path, count: int, announce: int, delay: float, stall: int = 0
) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    args = [sys.executable, "-c", _WRITER, str(root), str(count), str(announce), str(delay)]
    args.append(str(stall))
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)


def _kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    if child.stdout is not None:
        child.stdout.close()


def test_sigkill_in_the_middle_of_a_put_leaves_the_store_valid(tmp_path: Path) -> None:
    root = tmp_path / "store"
    count = 200  # 50 MiB; killed while its 150th block is half written
    child = _spawn(root, count, announce=count, delay=0.0, stall=150)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "mid"
    time.sleep(0.2)
    _kill(child)
    assert child.returncode == -signal.SIGKILL

    store = LocalStore(root)
    report = store.check()
    assert report.valid, report
    assert report.blocks_ok >= 120  # published before it died
    assert report.temp_files  # the half-written block, under a temp name only
    data = _content(count)
    expected = compute_cid(data)
    assert not store.has(expected)  # the root is written last

    assert store.put_bytes(data) == expected  # the same put again completes
    assert store.get_bytes(expected) == data
    cleaned = store.check(repair=True, stale_after_s=0)
    assert cleaned.valid
    assert set(cleaned.removed) == set(report.temp_files)
    assert not store.check().temp_files


def test_sigkill_at_random_moments_never_corrupts(tmp_path: Path) -> None:
    root = tmp_path / "store"
    rng = random.Random(7)
    for _ in range(3):
        child = _spawn(root, 160, announce=0, delay=0.002)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "mid"
        time.sleep(rng.uniform(0.0, 0.4))
        _kill(child)
        report = LocalStore(root).check()
        assert report.valid, report


def test_threads_writing_the_same_and_different_content(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    contents = [_content(n)[: n * CHUNK - n] for n in (1, 2, 3, 5)]
    jobs = [contents[i % len(contents)] for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        cids = list(pool.map(store.put_bytes, jobs))
    for data, cid in zip(jobs, cids, strict=True):
        assert cid == compute_cid(data)
        assert store.get_bytes(cid) == data
    report = store.check()
    assert report.valid
    assert not report.temp_files


def test_processes_writing_the_same_content(tmp_path: Path) -> None:
    root = tmp_path / "store"
    children = [_spawn(root, 40, announce=40, delay=0.0) for _ in range(4)]
    outputs = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        outputs.append(out.strip())
    expected = compute_cid(_content(40))
    assert outputs == [expected] * 4
    store = LocalStore(root)
    assert store.get_bytes(expected) == _content(40)
    report = store.check()
    assert report.valid
    assert not report.temp_files


@pytest.mark.parametrize("fsync", [True, False])
def test_both_durability_modes_store_the_same_blocks(tmp_path: Path, fsync: bool) -> None:
    store = LocalStore(tmp_path / "store", fsync=fsync)
    data = _content(3)
    cid = store.put_bytes(data)
    assert store.get_bytes(cid) == data
    assert store.check().blocks_ok == 4


def test_a_failing_source_leaves_no_temp_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")

    def broken() -> Iterator[bytes]:
        yield _content(40)
        raise RuntimeError("the producer died")

    with pytest.raises(RuntimeError, match="producer died"):
        store.put_stream(broken())
    report = store.check()
    assert report.valid
    assert not report.temp_files
    assert report.blocks_ok > 0  # what was published before the failure stays valid


@pytest.mark.parametrize("fsync", [True, False])
def test_a_disk_error_in_the_writer_thread_reaches_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsync: bool
) -> None:
    store = LocalStore(tmp_path / "store", fsync=fsync)
    real_write = os.write
    calls = {"n": 0}

    def failing_write(fd: int, data: bytes | memoryview) -> int:
        calls["n"] += 1
        if calls["n"] == 50:
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", failing_write)
    with pytest.raises(OSError, match="No space left"):
        store.put_bytes(_content(100))
    monkeypatch.setattr(os, "write", real_write)
    report = store.check()
    assert report.valid
    assert not report.temp_files
    assert store.put_bytes(_content(100)) == compute_cid(_content(100))
