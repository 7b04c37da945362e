"""GRPO's selection on a hand-built ledger: exactly the informative groups, whole, balanced,
and a manifest that says which groups and why."""

from __future__ import annotations

from pathlib import Path

from worldgym.refinery.dataset import DATASET_SCHEMA, group_rows, pin_dataset
from worldgym.refinery.groups import DROP_NO_TOKENS, DROP_UNINFORMATIVE, select_groups
from worldgym.refinery.selection import (
    DROP_ENV_QUOTA,
    DROP_MINER_CAP,
    Behaviour,
    LedgerBatch,
    LedgerTrace,
    SelectionConfig,
)
from worldgym.storage import StoreSettings, open_store

ALICE, BOB, CAROL = ("0x" + c * 40 for c in "abc")
EVERYTHING = SelectionConfig(max_traces=None, max_per_miner=None)
SAMPLED = Behaviour(model_id=2, model_digest="bafy-model-2", temperature=1.0, top_p=1.0)


def group(task: int, scores: list[float], *, tokens: bool = True) -> list[LedgerTrace]:
    """The samples of one task: sample j scored ``scores[j]``, with tokens and log-probs."""
    return [
        LedgerTrace(
            task,
            j,
            (("user", f"q{task}"),),
            f"<answer>{j}</answer>",
            score,
            (10 + j, 2) if tokens else (),
            (-0.5, -0.1) if tokens else (),
        )
        for j, score in enumerate(scores)
    ]


def batch(
    index: int,
    groups: list[list[LedgerTrace]],
    *,
    miner: str = ALICE,
    env: int = 1,
    consensus: int = 5_000,
    problem: str | None = None,
) -> LedgerBatch:
    traces = tuple(t for g in groups for t in g)
    return LedgerBatch(4, index, f"cid-{index}", miner, env, 1, consensus, traces, problem, SAMPLED)


def teaching(n: int, size: int = 4) -> list[list[LedgerTrace]]:
    """``n`` groups of ``size`` samples, one of which passed."""
    return [group(task, [1.0] + [0.0] * (size - 1)) for task in range(n)]


def test_exactly_the_informative_groups_are_selected_whole() -> None:
    ledger = [
        batch(
            0,
            [
                group(0, [1.0, 0.0, 0.0, 1.0]),  # pass and fail: informative
                group(1, [1.0, 1.0, 1.0, 1.0]),  # all solved: nothing to learn
                group(2, [0.0, 0.0, 0.0, 0.0]),  # all failed: nothing to learn
                group(3, [0.0, 0.01, 0.0, 0.0]),  # a sliver of partial credit still disagrees
                group(4, [0.5, 0.5, 0.5, 0.5]),  # the same partial credit: nothing
            ],
        ),
        batch(1, [group(0, [1.0, 0.0, 1.0, 0.0], tokens=False)], miner=BOB),
        batch(2, teaching(2), miner=CAROL, problem="re-verification the header lies"),
    ]
    sel = select_groups(ledger, EVERYTHING)
    assert [g.key for g in sel.groups] == [(4, 0, 0), (4, 0, 3)]  # full weight first
    assert [g.scores for g in sel.groups] == [(1.0, 0.0, 0.0, 1.0), (0.0, 0.01, 0.0, 0.0)]
    assert [g.weight for g in sel.groups] == [4.0, 4 * 0.02]
    assert len(sel.traces) == 8
    assert sel.dropped == {DROP_NO_TOKENS: 4, DROP_UNINFORMATIVE: 12}
    first, no_tokens, excluded = sel.decisions
    assert (first.selected, first.dropped) == (8, {DROP_UNINFORMATIVE: 12})
    assert (no_tokens.selected, no_tokens.dropped) == (0, {DROP_NO_TOKENS: 4})
    assert excluded.excluded == "re-verification the header lies"
    assert sel.groups[0].why() == (
        "scores disagree (spread 1): signal weight 4 of 4; batch consensus 5000 bps"
    )


def test_miners_take_turns_group_by_group_under_a_cap_counted_in_traces() -> None:
    ledger = [
        batch(0, teaching(10), miner=ALICE),
        batch(1, teaching(2), miner=BOB),
        batch(2, teaching(1), miner=CAROL),
    ]
    capped = select_groups(ledger, SelectionConfig(max_traces=100, max_per_miner=10))
    assert capped.per_miner() == {ALICE: 8, BOB: 8, CAROL: 4}  # 10 fits two groups of 4
    assert capped.dropped == {DROP_MINER_CAP: 32}
    turns = select_groups(ledger, SelectionConfig(max_traces=16, max_per_miner=16))
    assert [g.batch.miner for g in turns.groups].count(ALICE) == 2
    assert turns.per_miner() == {ALICE: 8, BOB: 4, CAROL: 4}
    assert turns.dropped == {DROP_ENV_QUOTA: 36}
    assert all(len(g.traces) == 4 for g in turns.groups), "groups are never split"


def test_environments_share_the_budget_and_leftovers_move() -> None:
    ledger = [
        batch(0, teaching(10), env=1),
        batch(1, teaching(10), env=2),
        batch(2, teaching(1), env=3),
    ]
    sel = select_groups(ledger, SelectionConfig(max_traces=36, max_per_miner=None))
    # 12 each, but environment 3 has one group (4 traces): its 8 go to the others.
    assert sel.per_environment() == {1: 16, 2: 16, 3: 4}
    assert select_groups(ledger, EVERYTHING).per_environment() == {1: 40, 2: 40, 3: 4}


def test_the_manifest_records_which_groups_and_why_and_rows_carry_the_rollouts(
    tmp_path: Path,
) -> None:
    store = open_store(StoreSettings(path=tmp_path / "store"))
    ledger = [batch(0, [group(0, [1.0, 0.0]), group(1, [0.0, 0.0])])]
    config = SelectionConfig(max_traces=64, max_per_miner=32)
    sel = select_groups(ledger, config)
    pinned = pin_dataset(
        store, sel, config, epochs=[4], deployment={"chain_id": 1}, parent={"id": 2, "cid": "p"}
    )
    manifest = pinned.manifest
    assert (manifest["schema"], manifest["algorithm"]) == (DATASET_SCHEMA, "grpo")
    assert manifest["counts"]["groups"] == 1
    assert manifest["counts"]["traces"] == 2
    assert manifest["counts"]["dropped"] == {DROP_UNINFORMATIVE: 2}
    (chosen,) = manifest["groups"]
    assert chosen["scores"] == [1.0, 0.0]
    assert (chosen["epoch"], chosen["batch_index"], chosen["task"]) == (4, 0, 0)
    assert "spread 1" in chosen["why"]
    assert "informative" in manifest["rules"]
    rows = group_rows(sel)
    assert rows == pinned.rows
    assert [r["group"] for r in rows] == ["4:0:0", "4:0:0"]
    assert rows[0]["tokens"] == [10, 2]
    assert rows[0]["logprobs"] == [-0.5, -0.1]
    assert rows[0]["sampling"] == {"temperature": 1.0, "top_p": 1.0}
    assert rows[0]["model"] == {"id": 2, "digest": "bafy-model-2"}
    assert [r["score"] for r in rows] == [1.0, 0.0]
    assert rows[1]["messages"][-1] == {"role": "assistant", "content": "<answer>1</answer>"}


def test_selection_is_deterministic_whatever_the_input_order() -> None:
    ledger = [
        batch(i, teaching(3), miner=(ALICE, BOB, CAROL)[i % 3], consensus=4_000 + 500 * (i % 4))
        for i in range(9)
    ]
    config = SelectionConfig(max_traces=40, max_per_miner=16)
    assert select_groups(ledger, config) == select_groups(list(reversed(ledger)), config)
