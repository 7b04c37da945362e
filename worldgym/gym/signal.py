"""The learning signal of a batch: which task groups teach the model something.

Traces come in groups of ``G`` samples of one task. A group whose samples all
score the same carries no signal: GRPO's group-normalised advantage is zero,
and fine-tuning on a task the model always solves (or never does) teaches
little. So a group's weight is ``G * min(1, 2 * (max - min))`` of its scores:
full once the spread reaches one half (one pass and one fail), zero for
all-solved, all-failed and reference-free environments. A batch's score in
basis points is the sum of its groups' weights over its trace count, so
``score * traceCount`` counts its informative traces. Validators reveal it,
the contract pays by it, and the refinery selects exactly the groups with
positive weight (see docs/protocol-v2.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = ["SCORE_SCALE", "batch_signal_bps", "group_weight", "informative"]

SCORE_SCALE = 10_000
_FULL_SPREAD = 0.5


def group_weight(scores: Sequence[float]) -> float:
    """``len(scores) * min(1, 2 * spread)``: how many traces' worth of signal one group carries."""
    if len(scores) < 2:
        return 0.0
    spread = max(scores) - min(scores)
    return len(scores) * min(1.0, spread / _FULL_SPREAD)


def informative(scores: Sequence[float]) -> bool:
    """Whether a group's samples disagree at all (its weight is positive)."""
    return group_weight(scores) > 0.0


def batch_signal_bps(groups: Mapping[int, Sequence[float]] | Iterable[Sequence[float]]) -> int:
    """The batch score: ``round(10,000 * sum of group weights / trace count)``, in 0..10,000.

    ``groups`` maps each task to its samples' scores (or is an iterable of
    score lists); every trace belongs to exactly one group.
    """
    lists = list(groups.values()) if isinstance(groups, Mapping) else list(groups)
    traces = sum(len(g) for g in lists)
    if traces == 0:
        return 0
    total = sum(group_weight(g) for g in lists)
    return min(SCORE_SCALE, round(SCORE_SCALE * total / traces))
