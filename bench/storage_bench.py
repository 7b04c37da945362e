"""Embedded store throughput against sha256 + a plain file, measured in the same run.

Each timed write gets fresh random bytes (``--mib``, default 64 MiB), the
same bytes for the store and its baseline:

* put: ``LocalStore.put_bytes`` (chunk, hash every block, write one file per
  block, rename) into a store in use (its shard directories exist) against
  ``sha256(data)`` + writing one plain file. Measured
  durable (the store fsyncs every block before naming it; the baseline fsyncs
  its file) and not durable (no fsync on either side).
* get: ``LocalStore.get_bytes`` (read every block, verify it against its CID,
  check every link) against reading the plain file + ``sha256``.
* CID: ``compute_cid`` (CIDv1 raw leaves, and CIDv0) against ``sha256`` alone.

Each figure is the best of ``--repeats`` runs; ratios are store / baseline
(goal >= 0.7). Run ``python bench/storage_bench.py [--mib 64] [--repeats 5] [--dir D]``:
the store's cost is one file per 256 KiB block, so the put ratio depends on how
fast the file system under ``--dir`` creates files (default: the temp dir).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import LocalStore, compute_cid

MIB = 1024 * 1024


def _timed(run: Callable[[], object]) -> float:
    os.sync()  # start with nothing dirty: no write-back of the previous run competes
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _plain_write(path: Path, data: bytes, fsync: bool) -> str:
    """sha256 + one file written in 1 MiB pieces (one huge write() is erratic here)."""
    digest = hashlib.sha256(data).hexdigest()
    view = memoryview(data)
    with path.open("wb", buffering=0) as fileobj:
        for start in range(0, len(view), MIB):
            fileobj.write(view[start : start + MIB])
        if fsync:
            os.fsync(fileobj.fileno())
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


def measure(mib: int, repeats: int, workdir: Path) -> dict[str, float]:
    """MB/s of every operation (MB = MiB here), keyed by name; best of ``repeats``.

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
    return {name: mib / min(times) for name, times in seconds.items()}


def report(rates: dict[str, float]) -> dict[str, float]:
    """Print the table; return the ratios."""
    ratios = {
        "put_durable": rates["put_store_durable"] / rates["put_baseline_durable"],
        "put_no_fsync": rates["put_store_no_fsync"] / rates["put_baseline_no_fsync"],
        "get": rates["get_store"] / rates["get_baseline"],
        "cid_v1_raw_leaves": rates["cid_v1_raw_leaves"] / rates["cid_baseline_sha256"],
        "cid_v0": rates["cid_v0"] / rates["cid_baseline_sha256"],
    }
    rows = [
        ("put, durable (fsync)", "put_store_durable", "put_baseline_durable", "put_durable"),
        ("put, no fsync", "put_store_no_fsync", "put_baseline_no_fsync", "put_no_fsync"),
        ("get (verified)", "get_store", "get_baseline", "get"),
        ("CID, v1 raw leaves", "cid_v1_raw_leaves", "cid_baseline_sha256", "cid_v1_raw_leaves"),
        ("CID, v0", "cid_v0", "cid_baseline_sha256", "cid_v0"),
    ]
    print(f"{'operation':<24}{'store MB/s':>12}{'baseline MB/s':>15}{'ratio':>8}")
    for label, ours, base, ratio in rows:
        print(f"{label:<24}{rates[ours]:>12.0f}{rates[base]:>15.0f}{ratios[ratio]:>8.2f}")
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64, help="size of the test data in MiB")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (best kept)")
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: tmp)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as workdir:
        rates = measure(args.mib, args.repeats, Path(workdir))
    print(f"{args.mib} MiB of random bytes, best of {args.repeats}; baseline = sha256 + one file")
    ratios = report(rates)
    goal = all(ratios[k] >= 0.7 for k in ("put_durable", "put_no_fsync", "get"))
    print(f"goal (put and get ratios >= 0.7): {'met' if goal else 'NOT met'}")
    if args.json:
        print(json.dumps({"mb_per_s": rates, "ratios": ratios}, indent=1))


if __name__ == "__main__":
    main()
