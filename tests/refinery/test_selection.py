"""Selection on a hand-built ledger: top first, verified only, dedup, per-miner cap, balance."""

from __future__ import annotations

import pydantic
import pytest

from worldgym.refinery.selection import (
    DROP_DUPLICATE,
    DROP_ENV_QUOTA,
    DROP_MINER_CAP,
    DROP_NOT_VERIFIED,
    Ledger,
    LedgerBatch,
    LedgerTrace,
    SelectionConfig,
    select,
)

ALICE, BOB, CAROL = ("0x" + c * 40 for c in "abc")


def trace(
    task: int, completion: str, score: float = 1.0, question: str | None = None
) -> LedgerTrace:
    q = question if question is not None else f"q{task}"
    return LedgerTrace(task, 0, (("user", q),), completion, score)


def batch(
    index: int,
    consensus: int,
    traces: list[LedgerTrace],
    *,
    miner: str = ALICE,
    env: int = 1,
    epoch: int = 3,
    problem: str | None = None,
) -> LedgerBatch:
    return LedgerBatch(
        epoch, index, f"cid{epoch}-{index}", miner, env, 1, consensus, tuple(traces), problem
    )


def unique(n: int, prefix: str, *, score: float = 1.0) -> list[LedgerTrace]:
    return [trace(i, f"<answer>{prefix}{i}</answer>", score, f"{prefix} q{i}") for i in range(n)]


def test_only_verified_traces_of_eligible_batches_are_kept_with_reasons() -> None:
    ledger = Ledger(
        (3,),
        (
            batch(0, 9_000, [trace(0, "right"), trace(1, "wrong", 0.0), trace(2, "", 1.0)]),
            batch(1, 4_999, unique(3, "low")),
            batch(2, 10_000, [], problem="unreadable: the batch is not available in storage"),
        ),
    )
    sel = select(ledger, SelectionConfig(min_consensus_bps=5_000))
    assert [s.trace.completion for s in sel.traces] == ["right"]
    first, low, unreadable = sel.decisions
    assert (first.selected, first.excluded, first.dropped) == (1, None, {DROP_NOT_VERIFIED: 2})
    assert low.selected == 0
    assert low.excluded is not None
    assert "4999 bps" in low.excluded
    assert unreadable.excluded == "unreadable: the batch is not available in storage"
    assert sel.dropped == {DROP_NOT_VERIFIED: 2}
    assert sel.traces[0].why() == "batch consensus 9000 bps, re-verified score 1"
    assert sel.traces[0].messages[-1] == {"role": "assistant", "content": "right"}


def test_threshold_on_the_trace_score_is_configurable() -> None:
    ledger = [batch(0, 8_000, [trace(0, "half", 0.5), trace(1, "full", 1.0)])]
    assert len(select(ledger, SelectionConfig()).traces) == 1
    assert len(select(ledger, SelectionConfig(min_trace_score=0.5)).traces) == 2


def test_samples_of_one_task_with_the_same_completion_count_once() -> None:
    right = "<answer>7</answer>"
    ledger = [
        # one task (position 0), three samples: two repeat the same completion
        batch(0, 9_500, [trace(0, right, question="3+4"), trace(0, right, question="3+4"),
                         trace(0, "<answer>07</answer>", question="3+4")], miner=BOB),
        # the same question again, but another task (another position, another batch)
        batch(1, 6_000, [trace(1, right, question="3+4")], miner=ALICE),
        batch(2, 9_000, [trace(0, right, question="3+4")], miner=CAROL),
    ]  # fmt: skip
    sel = select(ledger, SelectionConfig())
    kept = sorted((s.batch.index, s.trace.task, s.trace.completion) for s in sel.traces)
    assert kept == [(0, 0, "<answer>07</answer>"), (0, 0, right), (1, 1, right), (2, 0, right)]
    assert sel.decisions[0].dropped == {DROP_DUPLICATE: 1}
    assert sel.dropped == {DROP_DUPLICATE: 1}


def test_top_scored_batches_win_when_the_budget_binds() -> None:
    ledger = [
        batch(0, 6_000, unique(4, "weak")),
        batch(1, 10_000, unique(4, "best")),
        batch(2, 8_000, unique(4, "good")),
    ]
    sel = select(ledger, SelectionConfig(max_traces=6, max_per_miner=None))
    assert [s.batch.index for s in sel.traces] == [1, 1, 1, 1, 2, 2]
    assert sel.dropped == {DROP_ENV_QUOTA: 6}


def test_no_miner_dominates() -> None:
    ledger = [
        batch(0, 10_000, unique(50, "a"), miner=ALICE),
        batch(1, 7_000, unique(5, "b"), miner=BOB),
        batch(2, 6_000, unique(5, "c"), miner=CAROL),
    ]
    capped = select(ledger, SelectionConfig(max_traces=100, max_per_miner=10))
    assert capped.per_miner() == {ALICE: 10, BOB: 5, CAROL: 5}
    assert capped.dropped == {DROP_MINER_CAP: 40}
    # When the quota binds, miners take turns even under a loose cap.
    shared = select(ledger, SelectionConfig(max_traces=12, max_per_miner=12))
    assert shared.per_miner() == {ALICE: 4, BOB: 4, CAROL: 4}
    assert shared.dropped == {DROP_ENV_QUOTA: 48}


def test_environments_are_balanced_and_leftover_quota_moves() -> None:
    ledger = [
        batch(0, 9_000, unique(40, "e1"), env=1),
        batch(1, 9_000, unique(40, "e2"), env=2),
        batch(2, 9_000, unique(3, "e3"), env=3),
    ]
    sel = select(ledger, SelectionConfig(max_traces=30, max_per_miner=None))
    # 10 each, but environment 3 has only 3: its 7 go to the others.
    assert sel.per_environment() == {1: 14, 2: 13, 3: 3}
    assert len(sel.traces) == 30
    everything = select(ledger, SelectionConfig(max_traces=None, max_per_miner=None))
    assert everything.per_environment() == {1: 40, 2: 40, 3: 3}


def test_selection_is_deterministic_whatever_the_input_order() -> None:
    ledger = [
        batch(i, 5_000 + 500 * (i % 4), unique(6, f"b{i}"), miner=(ALICE, BOB, CAROL)[i % 3])
        for i in range(9)
    ]
    config = SelectionConfig(max_traces=20, max_per_miner=8)
    forward = select(ledger, config)
    backward = select(list(reversed(ledger)), config)
    assert forward == backward
    assert sum(d.selected for d in forward.decisions) == len(forward.traces) == 20


def test_config_errors_say_what_to_change() -> None:
    with pytest.raises(pydantic.ValidationError, match="lower max_per_miner"):
        SelectionConfig(max_traces=10, max_per_miner=20)
    with pytest.raises(pydantic.ValidationError):
        SelectionConfig(min_consensus_bps=10_001)
