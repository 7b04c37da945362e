"""Work sized to the epoch: a batch is cut to what can be built before its window closes."""

from __future__ import annotations

from pathlib import Path

import pytest
from worlds import World

from worldgym.chain.contracts import Protocol, Window
from worldgym.miner import BatchState, MinerError, Spool
from worldgym.miner.pace import Pace, TaskTimer
from worldgym.policy.hf import TransformersPolicy

pytestmark = pytest.mark.ml


class _Frozen:
    """A clock that stands still: the time left is exactly what the blocks give."""

    def __call__(self) -> float:
        return 100.0


def test_pace_counts_the_blocks_left_less_the_margin_in_seconds() -> None:
    now = [10.0]
    pace = Pace(opens=0, closes=30, head=20, block_s=2.0, margin_blocks=3, read_at=10.0,
                clock=lambda: now[0])  # fmt: skip
    assert pace.seconds_left() == (30 - 1 - 3 - 20) * 2.0
    now[0] = 13.0
    assert pace.seconds_left() == 12.0 - 3.0
    assert pace.epoch_seconds() == (30 - 3) * 2.0
    automine = Pace(0, 30, 20, None, 3, 0.0, lambda: 0.0)
    assert automine.seconds_left() is None  # blocks come only with transactions


def test_a_one_task_probe_never_overrides_a_batch_measurement() -> None:
    timer = TaskTimer()
    timer.record((1, 1), 1, 3.0)
    assert timer.seconds_per_task((1, 1)) == 3.0
    timer.record((1, 1), 8, 8.0)
    timer.record((1, 1), 1, 3.0)
    assert timer.seconds_per_task((1, 1)) == 1.0
    assert timer.seconds_per_task((2, 1)) is None


def _one_second_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Protocol, "block_seconds", lambda self, span=8: 1.0)


def test_the_batch_is_cut_to_what_fits_before_the_window_closes(
    world: World, policy: TransformersPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    _one_second_blocks(monkeypatch)
    miner, _ = world.miner(policy, tasks_per_batch=32)
    miner.clock = _Frozen()
    miner.timer.record((world.env_id, 1), 10, 10.0)  # a task takes a second here
    chain = world.chain
    epoch = chain.current_epoch()
    world.protocol.poke_seed(epoch)  # fixed now: the miner sends nothing before it plans
    _, closes = chain.window(epoch, Window.SUBMIT)
    chain.mine_to(closes - 10)  # 10 blocks left: 6 seconds once 3 are kept for submitting
    (entry,) = miner.mine_epoch()
    assert entry.state == BatchState.CONFIRMED
    assert entry.trace_count == 6 * 2  # 6 tasks of the 32 asked, 2 samples each


def test_with_no_time_left_it_says_so_and_waits_for_the_next_epoch(
    world: World, policy: TransformersPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    _one_second_blocks(monkeypatch)
    miner, spool = world.miner(policy)
    miner.clock = _Frozen()
    miner.timer.record((world.env_id, 1), 10, 10.0)
    chain = world.chain
    epoch = chain.current_epoch()
    _, closes = chain.window(epoch, Window.SUBMIT)
    chain.mine_to(closes - 4)
    result = miner.mine_round()
    assert result.entries == []
    assert result.skipped is not None
    assert f"waiting for epoch {epoch + 1}" in result.skipped
    assert "takes ~1.0 s here (2 samples of up to 12 tokens)" in result.skipped
    assert spool.entries() == [], "nothing built that could not land"


def test_a_task_longer_than_a_whole_window_is_a_clear_error(
    world: World, policy: TransformersPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    _one_second_blocks(monkeypatch)
    miner, _ = world.miner(policy)
    miner.clock = _Frozen()
    miner.timer.record((world.env_id, 1), 10, 1_000.0)  # 100 s a task; an epoch is ~30 s
    chain = world.chain
    chain.mine_to(chain.window(chain.current_epoch(), Window.SUBMIT)[1] - 5)
    with pytest.raises(MinerError, match="no batch can be built in time"):
        miner.mine_round()


def test_a_failed_batch_does_not_block_the_next_one_with_its_sequence(tmp_path: Path) -> None:
    """Mining two environments: the first batch failed (or expired) without taking its
    sequence number on chain, so the next is built for the same one (it crashed on UNIQUE)."""
    spool = Spool(tmp_path)
    first = spool.add(epoch=3, sequence=0, env_id=1, env_version=1, model_id=1, trace_count=4,
                      cid="bafyfirst", document=b"1")  # fmt: skip
    spool.update(first.id, BatchState.FAILED, note="reverted")
    second = spool.add(epoch=3, sequence=0, env_id=2, env_version=1, model_id=1, trace_count=4,
                       cid="bafysecond", document=b"2")  # fmt: skip
    assert second.sequence == first.sequence
    from worldgym.miner import SpoolError

    with pytest.raises(SpoolError, match="UNIQUE"):  # two live batches on one sequence: never
        spool.add(epoch=3, sequence=0, env_id=1, env_version=1, model_id=1, trace_count=4,
                  cid="bafythird", document=b"3")  # fmt: skip
