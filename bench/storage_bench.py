"""Embedded store throughput against sha256 + a plain file, measured in the same run.

Each timed write gets fresh random bytes (``--mib``, default 64 MiB), the
same bytes for the store and its baseline:

* put: ``LocalStore.put_bytes`` (chunk, hash every block, write one file per
  block, rename) into a store in use (its shard directories exist) against
  ``sha256(data)`` + writing one plain file. Measured durable (the same
  promise on both sides: when the call returns, the bytes and the name are on
  disk; the store fsyncs every block before naming it and the directories it
  named blocks in, the baseline fsyncs its file and its directory) and not
  durable (no fsync on either side).
* get: ``LocalStore.get_bytes`` (read every block, verify it against its CID,
  check every link) against reading the plain file + ``sha256``.
* CID: ``compute_cid`` (CIDv1 raw leaves, and CIDv0) against ``sha256`` alone.

Each MB/s figure is the best of ``--repeats`` runs. Store and baseline run
back to back in every round, so each round gives a ratio (store MB/s /
baseline MB/s) measured under the same load; the goal (>= 0.7) is on the
median of those paired ratios, which a busy shared machine (a burst of
another process's I/O in one run) moves far less than a ratio of two
separate bests (also printed). Run ``python bench/storage_bench.py [--mib 64]
[--repeats 7] [--dir D]``: the store's cost is one file per 256 KiB block, so
the put ratio depends on how fast the file system under ``--dir`` creates
files (default: the temp dir).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worldgym.storage import LocalStore, compute_cid
from worldgym.storage.blockfiles import fsync_dir

MIB = 1024 * 1024


def _timed(run: Callable[[], object]) -> float:
    os.sync()  # start with nothing dirty: no write-back of the previous run competes
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _plain_write(path: Path, data: bytes, fsync: bool) -> str:
    """sha256 + one file written in 1 MiB pieces (one huge write() is erratic here).

    Durable: the file is fsync'ed, then its directory (a new name is only on
    disk once its directory is), as the store does for its blocks.
    """
    digest = hashlib.sha256(data).hexdigest()
    view = memoryview(data)
    with path.open("wb", buffering=0) as fileobj:
        for start in range(0, len(view), MIB):
            fileobj.write(view[start : start + MIB])
        if fsync:
            os.fsync(fileobj.fileno())
    if fsync:
        fsync_dir(path.parent)
    return digest


def _plain_read(path: Path) -> bytes:
    data = path.read_bytes()
    hashlib.sha256(data).digest()
    return data


def _put_round(store_dir: Path, plain: Path, data: bytes, fsync: bool) -> tuple[float, float, str]:
    """(baseline seconds, store seconds, CID) for writing ``data`` both ways."""
    baseline = _timed(lambda: _plain_write(plain, data, fsync))
    store = LocalStore(store_dir, fsync=fsync)
    cids: list[str] = []
    ours = _timed(lambda: cids.append(store.put_bytes(data)))
    return baseline, ours, cids[0]


# (label, store figure, baseline figure, ratio name)
ROWS = [
    ("put, durable (fsync)", "put_store_durable", "put_baseline_durable", "put_durable"),
    ("put, no fsync", "put_store_no_fsync", "put_baseline_no_fsync", "put_no_fsync"),
    ("get (verified)", "get_store", "get_baseline", "get"),
    ("CID, v1 raw leaves", "cid_v1_raw_leaves", "cid_baseline_sha256", "cid_v1_raw_leaves"),
    ("CID, v0", "cid_v0", "cid_baseline_sha256", "cid_v0"),
]


def measure(mib: int, repeats: int, workdir: Path) -> dict[str, list[float]]:
    """Seconds of every run of every operation, keyed by name (run ``i`` of a store
    figure and of its baseline were measured back to back).

    Every timed write gets new random bytes, and nothing is deleted while
    timing (on disks mounted with ``discard`` deletes slow down later writes).
    """
    size = mib * MIB
    plain_dir, store_dir = workdir / "plain", workdir / "store"
    plain_dir.mkdir()
    # A store in use has all its shard directories; make them once, untimed.
    LocalStore(store_dir, fsync=False).put_bytes(os.urandom(size))
    seconds: dict[str, list[float]] = {}
    data, plain, cid = b"", plain_dir, ""
    for run in range(repeats):
        for fsync, tag in ((True, "durable"), (False, "no_fsync")):
            data, plain = os.urandom(size), plain_dir / f"{tag}-{run}.bin"
            baseline, ours, cid = _put_round(store_dir, plain, data, fsync)
            seconds.setdefault(f"put_baseline_{tag}", []).append(baseline)
            seconds.setdefault(f"put_store_{tag}", []).append(ours)
    store = LocalStore(store_dir, max_read_bytes=size)
    assert store.get_bytes(cid) == data
    reads: dict[str, Callable[[], object]] = {
        "get_baseline": lambda: _plain_read(plain),
        "get_store": lambda: store.get_bytes(cid),
        "cid_baseline_sha256": lambda: hashlib.sha256(data).digest(),
        "cid_v1_raw_leaves": lambda: compute_cid(data),
        "cid_v0": lambda: compute_cid(data, cid_version=0),
    }
    for _ in range(repeats):
        for name, run_once in reads.items():
            seconds.setdefault(name, []).append(_timed(run_once))
    return seconds


def summarize(seconds: dict[str, list[float]], mib: int) -> dict[str, dict[str, float]]:
    """Best MB/s per figure, and per ratio: the median of the paired rounds' ratios and
    the ratio of the two bests."""
    best = {name: mib / min(times) for name, times in seconds.items()}
    paired = {
        ratio: statistics.median(b / s for s, b in zip(seconds[ours], seconds[base], strict=True))
        for _, ours, base, ratio in ROWS
    }
    of_bests = {ratio: best[ours] / best[base] for _, ours, base, ratio in ROWS}
    return {"mb_per_s": best, "ratios": paired, "ratios_of_bests": of_bests}


def report(figures: dict[str, dict[str, float]]) -> dict[str, float]:
    """Print the table; return the (paired, median) ratios."""
    best, ratios, of_bests = figures["mb_per_s"], figures["ratios"], figures["ratios_of_bests"]
    print(f"{'operation':<22}{'store MB/s':>11}{'baseline MB/s':>15}{'ratio':>7}{'of bests':>10}")
    for label, ours, base, ratio in ROWS:
        print(
            f"{label:<22}{best[ours]:>11.0f}{best[base]:>15.0f}"
            f"{ratios[ratio]:>7.2f}{of_bests[ratio]:>10.2f}"
        )
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64, help="size of the test data in MiB")
    parser.add_argument("--repeats", type=int, default=7, help="rounds per figure")
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: tmp)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as workdir:
        seconds = measure(args.mib, args.repeats, Path(workdir))
    figures = summarize(seconds, args.mib)
    print(
        f"{args.mib} MiB of random bytes, {args.repeats} rounds; baseline = sha256 + one file; "
        "MB/s: best round; ratio: median of the rounds' store/baseline ratios"
    )
    ratios = report(figures)
    goal = all(ratios[k] >= 0.7 for k in ("put_durable", "put_no_fsync", "get"))
    print(f"goal (put and get ratios >= 0.7): {'met' if goal else 'NOT met'}")
    if args.json:
        print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
