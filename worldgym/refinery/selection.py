"""Which traces the refinery trains on: a pure function over a plain ledger.

The ledger (:class:`Ledger`) is what the chain and the store say about some
finalized epochs: every batch with its consensus score and every trace with
the score the refinery's own re-verification gave it. :func:`select` applies,
in this order:

1. **eligible batches**: readable, and a consensus of at least
   ``min_consensus_bps``; the others are excluded with the reason;
2. **verified traces**: a re-verified score of at least ``min_trace_score``
   (1.0: fully correct) and a non-empty completion;
3. **top first**: batches are ranked by consensus (then epoch, index), traces
   in batch order, so every later cut keeps the best-scored traces;
4. **deduplicated**: one trace per (task, completion). A task is one derived
   task of one batch (its epoch, miner and index fix its seed); the G samples
   of a group often repeat the same right completion, and those count once.
   Two tasks that render the same question are two draws from the
   environment and both count, which keeps the environment's own weighting
   of its questions (an easy question that recurs is no reason to train less
   on it);
5. **capped per miner**: at most ``max_per_miner`` traces of one miner per
   environment, and within an environment miners take turns (round-robin
   over their best-first queues), so no one miner dominates when the
   environment's quota binds;
6. **balanced across environments**: ``max_traces`` is shared evenly
   between environments; what one environment cannot fill goes to the others.

Every trace that was a candidate and is not selected is counted under the
reason it was dropped; every batch gets a decision. The result is what the
dataset manifest records (see :mod:`worldgym.refinery.dataset`).
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "DROP_DUPLICATE",
    "DROP_ENV_QUOTA",
    "DROP_MINER_CAP",
    "DROP_NOT_VERIFIED",
    "BatchDecision",
    "Behaviour",
    "Ledger",
    "LedgerBatch",
    "LedgerTrace",
    "SelectedTrace",
    "Selection",
    "SelectionConfig",
    "batch_exclusion",
    "select",
    "share_budget",
    "take_turns",
]

DROP_NOT_VERIFIED = "not verified correct"
DROP_DUPLICATE = "duplicate of another sample of the same task (same completion)"
DROP_MINER_CAP = "over the per-miner cap"
DROP_ENV_QUOTA = "over the environment's quota"
_Item = TypeVar("_Item")


class SelectionConfig(BaseModel):
    """How many traces to keep and from where (see the module docstring for the order).

    A batch's consensus is the mean trace score validators agreed on, and 0
    when the majority of stake rejected it (a failed proof of rollout, a
    header that lies); the default floor of 1 bps keeps every batch that was
    not rejected, so a weak model's few correct traces still count, while
    ranking by consensus prefers the best batches when ``max_traces`` binds.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_consensus_bps: Annotated[int, Field(ge=0, le=10_000)] = 1
    min_trace_score: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)] = 1.0
    max_traces: Annotated[int | None, Field(ge=1)] = 4_096
    max_per_miner: Annotated[int | None, Field(ge=1)] = 1_024

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (
            self.max_traces is not None
            and self.max_per_miner is not None
            and self.max_per_miner > self.max_traces
        ):
            raise ValueError(
                f"max_per_miner ({self.max_per_miner}) is above max_traces ({self.max_traces}), "
                "so it caps nothing: lower max_per_miner or leave it unset"
            )
        return self


@dataclass(frozen=True)
class LedgerTrace:
    """One trace of a batch and the score the refinery's own verification gave it.

    ``tokens`` are the sampled token ids and ``logprobs`` the sampling model's
    raw log-probabilities of them (``log_softmax`` at temperature 1), as the
    batch declares them; GRPO trains on both.
    """

    task: int
    sample: int
    prompt: tuple[tuple[str, str], ...]
    completion: str
    score: float
    tokens: tuple[int, ...] = ()
    logprobs: tuple[float, ...] = ()

    @property
    def messages(self) -> list[dict[str, str]]:
        """The prompt as chat messages."""
        return [{"role": role, "content": content} for role, content in self.prompt]


@dataclass(frozen=True)
class Behaviour:
    """How a batch's traces were sampled: the model (registry id, checkpoint CID) and settings."""

    model_id: int
    model_digest: str
    temperature: float
    top_p: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (what each GRPO dataset row carries)."""
        return {
            "model": {"id": self.model_id, "digest": self.model_digest},
            "sampling": {"temperature": self.temperature, "top_p": self.top_p},
        }


@dataclass(frozen=True)
class LedgerBatch:
    """A batch of a finalized epoch: its on-chain record, consensus and (readable) traces.

    ``problem`` says why the batch could not be used (unreadable, rejected on
    re-verification); its ``traces`` are then empty. ``behaviour`` is the
    header's model and sampling settings (for a readable batch).
    """

    epoch: int
    index: int
    cid: str
    miner: str
    env_id: int
    env_version: int
    consensus_bps: int
    traces: tuple[LedgerTrace, ...] = ()
    problem: str | None = None
    behaviour: Behaviour | None = None

    @property
    def key(self) -> tuple[int, int]:
        """(epoch, index): the batch's identity on chain."""
        return (self.epoch, self.index)


@dataclass(frozen=True)
class Ledger:
    """The batches of some finalized epochs (the refinery's input)."""

    epochs: tuple[int, ...]
    batches: tuple[LedgerBatch, ...]


@dataclass(frozen=True)
class SelectedTrace:
    """A trace chosen for training, with where it came from and why it ranked where it did."""

    batch: LedgerBatch
    trace: LedgerTrace

    @property
    def messages(self) -> list[dict[str, str]]:
        """Prompt plus the completion as the assistant's turn: one chat training example."""
        return [*self.trace.messages, {"role": "assistant", "content": self.trace.completion}]

    def why(self) -> str:
        """One line: the batch's consensus and the trace's verified score."""
        return (
            f"batch consensus {self.batch.consensus_bps} bps, "
            f"re-verified score {self.trace.score:g}"
        )


@dataclass(frozen=True)
class BatchDecision:
    """What became of one batch: how many of its traces were selected, or why none could be."""

    batch: LedgerBatch
    selected: int
    excluded: str | None
    dropped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Selection:
    """The selected traces (best-ranked first within each environment) and every decision."""

    traces: tuple[SelectedTrace, ...]
    decisions: tuple[BatchDecision, ...]
    dropped: dict[str, int]

    def per_environment(self) -> dict[int, int]:
        """Selected traces per environment id."""
        return dict(sorted(Counter(s.batch.env_id for s in self.traces).items()))

    def per_miner(self) -> dict[str, int]:
        """Selected traces per miner address."""
        return dict(sorted(Counter(s.batch.miner for s in self.traces).items()))


def batch_exclusion(batch: LedgerBatch, config: SelectionConfig) -> str | None:
    """Why ``batch`` cannot be used at all (unreadable, rejected, under the floor), or None."""
    if batch.problem is not None:
        return batch.problem
    if batch.consensus_bps < config.min_consensus_bps:
        return (
            f"consensus {batch.consensus_bps} bps is below the minimum of "
            f"{config.min_consensus_bps} bps"
        )
    if not batch.traces:
        return "the batch has no traces"
    return None


def _dedup_key(batch: LedgerBatch, trace: LedgerTrace) -> tuple[int, int, int, str]:
    """The task's identity on chain (epoch, batch index, task position) and the completion."""
    return (batch.epoch, batch.index, trace.task, trace.completion)


def share_budget(supply: dict[int, int], budget: int | None) -> dict[int, int]:
    """Share ``budget`` evenly over environments; what one cannot use goes to the others."""
    if budget is None:
        return dict(supply)
    quotas = dict.fromkeys(supply, 0)
    open_envs = sorted(env for env, n in supply.items() if n > 0)
    left = budget
    while open_envs and left > 0:
        share, extra = divmod(left, len(open_envs))
        still_open = []
        for position, env in enumerate(open_envs):
            want = share + (1 if position < extra else 0)
            take = min(want, supply[env] - quotas[env])
            quotas[env] += take
            left -= take
            if quotas[env] < supply[env]:
                still_open.append(env)
        open_envs = still_open
    return quotas


def take_turns(
    queues: dict[str, deque[_Item]],
    quota: int,
    cap: int | None,
    size: Callable[[_Item], int] = lambda _item: 1,
) -> tuple[list[_Item], Counter[str], list[_Item]]:
    """Miners take turns (in address order) until ``quota`` traces are chosen; each up to ``cap``.

    An item (a trace, or a group of ``size(item)`` traces) is taken whole or
    not at all; a miner whose next item does not fit the quota or its cap is
    done. Returns (chosen, traces chosen per miner, the leftover candidates).
    """
    chosen: list[_Item] = []
    taken: Counter[str] = Counter()
    total = 0
    miners = sorted(queues)
    open_miners = [m for m in miners if queues[m]]
    while open_miners:
        still_open = []
        for miner in open_miners:
            queue = queues[miner]
            n = size(queue[0])
            if total + n > quota or (cap is not None and taken[miner] + n > cap):
                continue
            chosen.append(queue.popleft())
            taken[miner] += n
            total += n
            if queue:
                still_open.append(miner)
        open_miners = still_open
    leftover = [item for miner in miners for item in queues[miner]]
    return chosen, taken, leftover


def select(ledger: Ledger | Iterable[LedgerBatch], config: SelectionConfig) -> Selection:
    """Select training traces from ``ledger`` under ``config`` (deterministic, no I/O)."""
    batches: Sequence[LedgerBatch] = ledger.batches if isinstance(ledger, Ledger) else tuple(ledger)
    ranked = sorted(batches, key=lambda b: (-b.consensus_bps, b.epoch, b.index))
    drops: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    exclusions: dict[tuple[int, int], str | None] = {}
    seen: set[tuple[int, int, int, str]] = set()
    # env -> miner -> best-first candidates
    queues: dict[int, dict[str, deque[SelectedTrace]]] = defaultdict(lambda: defaultdict(deque))
    for batch in ranked:
        exclusions[batch.key] = reason = batch_exclusion(batch, config)
        if reason is not None:
            continue
        for trace in batch.traces:
            if trace.score < config.min_trace_score or not trace.completion:
                drops[batch.key][DROP_NOT_VERIFIED] += 1
                continue
            key = _dedup_key(batch, trace)
            if key in seen:
                drops[batch.key][DROP_DUPLICATE] += 1
                continue
            seen.add(key)
            queues[batch.env_id][batch.miner].append(SelectedTrace(batch, trace))

    supply = {
        env: sum(
            len(q) if config.max_per_miner is None else min(len(q), config.max_per_miner)
            for q in miners.values()
        )
        for env, miners in queues.items()
    }
    quotas = share_budget(supply, config.max_traces)
    chosen_all: list[SelectedTrace] = []
    for env in sorted(queues):
        chosen, taken, leftover = take_turns(queues[env], quotas[env], config.max_per_miner)
        chosen.sort(key=lambda s: (-s.batch.consensus_bps, s.batch.epoch, s.batch.index))
        chosen_all.extend(chosen)
        for item in leftover:
            capped = config.max_per_miner is not None and taken[item.batch.miner] >= (
                config.max_per_miner
            )
            drops[item.batch.key][DROP_MINER_CAP if capped else DROP_ENV_QUOTA] += 1

    selected_per_batch = Counter(s.batch.key for s in chosen_all)
    decisions = tuple(
        BatchDecision(
            batch=b,
            selected=selected_per_batch[b.key],
            excluded=exclusions[b.key],
            dropped=dict(sorted(drops[b.key].items())),
        )
        for b in sorted(batches, key=lambda b: b.key)
    )
    totals: Counter[str] = Counter()
    for counter in drops.values():
        totals.update(counter)
    return Selection(tuple(chosen_all), decisions, dict(sorted(totals.items())))
