"""Which groups GRPO trains on: the informative ones, balanced like fine-tuning's traces.

A group is the ``G`` samples one batch drew for one task. GRPO learns from the
contrast inside a group, so a group whose samples all scored the same teaches
nothing (its advantages are all zero) and one whose samples disagree does:
exactly the rule the protocol pays by (:func:`worldgym.gym.signal.informative`,
docs/protocol-v2.md §2). :func:`select_groups` applies, in this order:

1. **eligible batches**: as for fine-tuning (:func:`worldgym.refinery.selection.batch_exclusion`);
2. **whole, trainable groups**: every sample of the task, each with its token
   ids and log-probabilities (GRPO trains on the sampled tokens themselves);
3. **informative groups**: the group's re-verified scores disagree
   (``group_weight > 0``); the others are dropped with the reason;
4. **signal first**: per environment and miner, groups are ranked by their
   weight (``G * min(1, 2 * spread)``), then batch consensus, epoch, index, task;
5. **capped per miner and balanced across environments**, counted in traces,
   with miners taking turns group by group (:func:`worldgym.refinery.selection.take_turns`)
   and ``max_traces`` shared evenly across environments
   (:func:`worldgym.refinery.selection.share_budget`). A group is kept whole or not at all.

Duplicate completions inside a group are kept: they are draws of the same
policy and weigh in its baseline. ``min_trace_score`` does not apply (failed
samples are half of the contrast). Every dropped trace is counted under its
reason, every batch gets a decision, every selected group says why.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from worldgym.gym.signal import group_weight
from worldgym.refinery.selection import (
    DROP_ENV_QUOTA,
    DROP_MINER_CAP,
    BatchDecision,
    Ledger,
    LedgerBatch,
    LedgerTrace,
    SelectedTrace,
    SelectionConfig,
    batch_exclusion,
    share_budget,
    take_turns,
)

__all__ = [
    "DROP_NO_TOKENS",
    "DROP_UNINFORMATIVE",
    "GroupSelection",
    "SelectedGroup",
    "select_groups",
]

DROP_UNINFORMATIVE = "group not informative (every sample scored the same)"
DROP_NO_TOKENS = "a sample of the group has no token ids or log-probabilities"


@dataclass(frozen=True)
class SelectedGroup:
    """The samples of one task of one batch, chosen for GRPO, in sample order."""

    batch: LedgerBatch
    task: int
    traces: tuple[LedgerTrace, ...]

    @property
    def key(self) -> tuple[int, int, int]:
        """(epoch, batch index, task): the group's identity on chain."""
        return (self.batch.epoch, self.batch.index, self.task)

    @property
    def name(self) -> str:
        """``epoch:index:task``, the group id in dataset rows."""
        return ":".join(str(part) for part in self.key)

    @property
    def scores(self) -> tuple[float, ...]:
        """The re-verified score of each sample."""
        return tuple(t.score for t in self.traces)

    @property
    def weight(self) -> float:
        """The group's learning signal in traces (:func:`worldgym.gym.signal.group_weight`)."""
        return group_weight(self.scores)

    def why(self) -> str:
        """One line: the scores' spread, the signal weight and the batch's consensus."""
        spread = max(self.scores) - min(self.scores)
        return (
            f"scores disagree (spread {spread:g}): signal weight {self.weight:g} of "
            f"{len(self.traces)}; batch consensus {self.batch.consensus_bps} bps"
        )


@dataclass(frozen=True)
class GroupSelection:
    """The selected groups (best-ranked first within each environment) and every decision.

    ``dropped`` counts traces per reason, like :class:`worldgym.refinery.selection.Selection`.
    """

    groups: tuple[SelectedGroup, ...]
    decisions: tuple[BatchDecision, ...]
    dropped: dict[str, int]

    @property
    def traces(self) -> tuple[SelectedTrace, ...]:
        """Every trace of every selected group, group by group."""
        return tuple(SelectedTrace(g.batch, t) for g in self.groups for t in g.traces)

    def per_environment(self) -> dict[int, int]:
        """Selected traces per environment id."""
        counts: Counter[int] = Counter()
        for g in self.groups:
            counts[g.batch.env_id] += len(g.traces)
        return dict(sorted(counts.items()))

    def per_miner(self) -> dict[str, int]:
        """Selected traces per miner address."""
        counts: Counter[str] = Counter()
        for g in self.groups:
            counts[g.batch.miner] += len(g.traces)
        return dict(sorted(counts.items()))


def _groups_of(batch: LedgerBatch) -> list[SelectedGroup]:
    by_task: dict[int, list[LedgerTrace]] = defaultdict(list)
    for trace in batch.traces:
        by_task[trace.task].append(trace)
    return [
        SelectedGroup(batch, task, tuple(sorted(traces, key=lambda t: t.sample)))
        for task, traces in sorted(by_task.items())
    ]


def _trainable(group: SelectedGroup) -> bool:
    return all(t.tokens and len(t.tokens) == len(t.logprobs) for t in group.traces)


def _rank(group: SelectedGroup) -> tuple[float, int, int, int, int]:
    b = group.batch
    return (-group.weight, -b.consensus_bps, b.epoch, b.index, group.task)


def _supply(queue: Sequence[SelectedGroup], cap: int | None) -> int:
    """Traces a miner's best-first queue can give under its cap (whole groups)."""
    total = 0
    for group in queue:
        if cap is not None and total + len(group.traces) > cap:
            break
        total += len(group.traces)
    return total


def select_groups(
    ledger: Ledger | Iterable[LedgerBatch], config: SelectionConfig
) -> GroupSelection:
    """Select GRPO groups from ``ledger`` under ``config`` (deterministic, no I/O)."""
    batches: Sequence[LedgerBatch] = ledger.batches if isinstance(ledger, Ledger) else tuple(ledger)
    drops: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    exclusions: dict[tuple[int, int], str | None] = {}
    candidates: dict[int, dict[str, list[SelectedGroup]]] = defaultdict(lambda: defaultdict(list))
    for batch in batches:
        exclusions[batch.key] = reason = batch_exclusion(batch, config)
        if reason is not None:
            continue
        for group in _groups_of(batch):
            if not _trainable(group):
                drops[batch.key][DROP_NO_TOKENS] += len(group.traces)
            elif group.weight <= 0.0:
                drops[batch.key][DROP_UNINFORMATIVE] += len(group.traces)
            else:
                candidates[batch.env_id][batch.miner].append(group)

    cap = config.max_per_miner
    queues = {
        env: {miner: deque(sorted(groups, key=_rank)) for miner, groups in miners.items()}
        for env, miners in candidates.items()
    }
    supply = {env: sum(_supply(q, cap) for q in miners.values()) for env, miners in queues.items()}
    quotas = share_budget(supply, config.max_traces)
    chosen_all: list[SelectedGroup] = []
    for env in sorted(queues):
        chosen, taken, leftover = take_turns(
            queues[env], quotas[env], cap, size=lambda g: len(g.traces)
        )
        chosen_all.extend(sorted(chosen, key=_rank))
        for group in leftover:
            n = len(group.traces)
            capped = cap is not None and taken[group.batch.miner] + n > cap
            drops[group.batch.key][DROP_MINER_CAP if capped else DROP_ENV_QUOTA] += n

    selected: Counter[tuple[int, int]] = Counter()
    for group in chosen_all:
        selected[group.batch.key] += len(group.traces)
    decisions = tuple(
        BatchDecision(
            batch=b,
            selected=selected[b.key],
            excluded=exclusions[b.key],
            dropped=dict(sorted(drops[b.key].items())),
        )
        for b in sorted(batches, key=lambda b: b.key)
    )
    totals: Counter[str] = Counter()
    for counter in drops.values():
        totals.update(counter)
    return GroupSelection(tuple(chosen_all), decisions, dict(sorted(totals.items())))
