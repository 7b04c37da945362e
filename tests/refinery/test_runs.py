"""The refinery's bookkeeping without a chain: run state, lock, schedule, dataset files."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from worldgym.core.errors import UsageError
from worldgym.policy.errors import CheckpointError
from worldgym.policy.metrics import METRICS_SCHEMA, metrics_digest, read_metrics
from worldgym.refinery.dataset import (
    dataset_rows,
    pin_dataset,
    read_dataset_manifest,
    read_rows,
    write_rows,
)
from worldgym.refinery.errors import RefineryError
from worldgym.refinery.publish import pin_metrics
from worldgym.refinery.runs import RefineryBusyError, RunDir, RunLock, RunStage, run_key
from worldgym.refinery.schedule import parse_interval, run_every
from worldgym.refinery.selection import LedgerBatch, LedgerTrace, Selection, SelectionConfig, select
from worldgym.storage import StoreSettings, open_store


def test_run_state_advances_atomically_and_resumes(tmp_path: Path) -> None:
    key = run_key({"parent": 1, "epochs": [3, 4]})
    assert key == run_key({"epochs": [3, 4], "parent": 1})
    assert key != run_key({"parent": 1, "epochs": [3]})
    rd = RunDir(tmp_path, key)
    assert rd.stage is None
    assert rd.state() == {}
    assert not rd.reached(RunStage.SELECTED)
    rd.advance(RunStage.SELECTED, dataset_cid="bafy")
    rd.advance(RunStage.TRAINED, train={"steps": 3})
    again = RunDir(tmp_path, key)  # a new process reads the same state
    assert again.stage is RunStage.TRAINED
    assert again.state()["dataset_cid"] == "bafy"
    assert again.reached(RunStage.SELECTED)
    assert not again.reached(RunStage.EVALUATED)
    assert [p.name for p in again.path.iterdir()] == ["state.json"]  # no temporary left behind
    again.advance(RunStage.REJECTED)
    assert again.stage.final
    assert not again.reached(RunStage.PINNED)

    rd.state_path.write_text("{not json")
    with pytest.raises(RefineryError, match="delete that run directory"):
        rd.state()


def test_one_run_at_a_time(tmp_path: Path) -> None:
    with RunLock(tmp_path), pytest.raises(RefineryBusyError, match="pid"), RunLock(tmp_path):
        pass
    with RunLock(tmp_path):  # released on exit
        pass


def test_interval_parsing_and_schedule() -> None:
    assert [parse_interval(t) for t in ("90s", "15m", "1h", "2d", "5")] == [
        90, 900, 3600, 172800, 5
    ]  # fmt: skip
    for bad in ("", "1w", "-1h", "0.5s", "h"):
        with pytest.raises(UsageError):  # a command-line mistake: exit code 2
            parse_interval(bad)

    ticks: list[float] = []
    errors: list[Exception] = []

    def job() -> None:
        ticks.append(time.monotonic())
        if len(ticks) == 1:
            raise RefineryError("storage down")  # reported; the schedule goes on

    assert run_every(job, 1, on_error=errors.append, runs=2) == 2
    assert [str(e) for e in errors] == ["storage down"]
    assert 0.8 < ticks[1] - ticks[0] < 3

    def broken() -> None:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        run_every(broken, 1, on_error=errors.append)


def test_schedule_never_overlaps_runs() -> None:
    running = threading.Event()
    overlaps: list[bool] = []

    def slow() -> None:
        overlaps.append(running.is_set())
        running.set()
        time.sleep(2.2)  # longer than the interval
        running.clear()

    run_every(slow, 1, on_error=lambda _e: None, runs=2)
    assert overlaps == [False, False]


def _selection() -> tuple[Selection, SelectionConfig]:
    traces = tuple(
        LedgerTrace(i, 0, (("user", f"{i}+1"),), f"<answer>{i + 1}</answer>", 1.0) for i in range(3)
    )
    batch = LedgerBatch(2, 0, "bafkbatch", "0x" + "ab" * 20, 1, 1, 9_000, traces)
    config = SelectionConfig()
    return select([batch], config), config


def test_dataset_is_pinned_read_back_and_exported(tmp_path: Path) -> None:
    store = open_store(StoreSettings(path=tmp_path / "store"))
    selection, config = _selection()
    pinned = pin_dataset(
        store, selection, config, epochs=[2], deployment={"chain_id": 1, "contract": "0x"},
        parent={"id": 1, "cid": "bafkparent"},
    )  # fmt: skip
    manifest = read_dataset_manifest(store, pinned.manifest_cid)
    assert manifest == pinned.manifest
    assert manifest["counts"]["traces"] == 3
    assert manifest["batches"][0]["selected"] == 3
    assert manifest["traces"][0]["why"] == "batch consensus 9000 bps, re-verified score 1"
    rows = read_rows(store, manifest["data"]["cid"])
    assert rows == dataset_rows(selection)
    assert rows[0]["messages"] == [
        {"role": "user", "content": "0+1"},
        {"role": "assistant", "content": "<answer>1</answer>"},
    ]
    with pytest.raises(RefineryError, match=r"is not a worldgym\.dataset/1 manifest"):
        read_dataset_manifest(store, store.put_bytes(b'{"schema": "worldgym.batch/1"}'))
    with pytest.raises(RefineryError, match="is not JSON"):
        read_dataset_manifest(store, manifest["data"]["cid"])

    import pyarrow.parquet as pq

    write_rows(rows, tmp_path / "d.parquet", "parquet")
    assert pq.read_table(tmp_path / "d.parquet").to_pylist() == rows
    write_rows(rows, tmp_path / "d.jsonl", "jsonl")
    assert [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()] == rows


def test_metrics_document_digest_is_checked(tmp_path: Path) -> None:
    store = open_store(StoreSettings(path=tmp_path / "store"))
    document = {"schema": METRICS_SCHEMA, "pass_at_1": {"parent": 0.25, "candidate": 0.5}}
    cid, digest = pin_metrics(store, document)
    assert digest == metrics_digest(document)
    assert read_metrics(store, cid, digest) == document
    with pytest.raises(CheckpointError, match="does not hash"):
        read_metrics(store, cid, bytes(32))
    with pytest.raises(RefineryError, match="must have schema"):
        pin_metrics(store, {"pass_at_1": 1.0})
