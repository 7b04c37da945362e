"""Scoring one batch exactly as every validator must: a score for every input, with a reason.

:func:`score_batch` never raises on what a miner sent. In order, a batch is
rejected whole (score 0) when:

1. its bytes cannot be fetched, or do not hash to the CID on chain;
2. it is not a valid ``worldgym.batch/1`` document (size cap, JSON, types,
   ranges, a repeated or missing task/sample, a count mismatch);
3. its header disagrees with the on-chain submission (chain, contract,
   epoch, miner, environment, version, sequence, model, trace count) or names
   a checkpoint other than the registered one;
4. the environment cannot be loaded or reproduced here (reported, not guessed);
5. a trace's prompt is not the prompt of the task the validator derived
   itself, or its ``answer`` is not what the spec extracts from its completion;
6. a sampled trace fails the proof of rollout (:mod:`policy.rollout`).

Otherwise each trace is scored in [0, 1] by the environment's verifier
against the derived task, and the batch's score is the mean, in basis points
(the contract weights each batch by its trace count).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak, to_checksum_address

from client.contracts import BatchRecord
from client.errors import WorldGymError
from client.protocol_math import SCORE_SCALE
from client.schemas import BatchDocument, BatchFormatError, parse_batch, task_index
from gym import Environment, GymError, Task
from policy.rollout import RolloutCheck

__all__ = [
    "BatchContext",
    "BatchVerdict",
    "RolloutChecker",
    "TraceResult",
    "rollout_sample",
    "score_batch",
]

_log = logging.getLogger(__name__)


# Checks trace ``n`` of a batch against the declared model (policy.rollout.check_rollout).
RolloutChecker = Callable[[BatchDocument, int], RolloutCheck]


@dataclass(frozen=True)
class BatchContext:
    """What the validator knows independently of the batch: the chain's record and the seed."""

    record: BatchRecord
    validator: str
    chain_id: int
    contract: str
    seed: bytes
    checkpoint_cid: str | None
    environment: Callable[[int, int], Environment]
    rollout: RolloutChecker | None
    sample_seed: bytes
    rollout_samples: int = 4


@dataclass(frozen=True)
class TraceResult:
    """One trace's outcome."""

    task: int
    sample: int
    score: float
    reason: str
    rollout: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out: dict[str, Any] = {
            "task": self.task,
            "sample": self.sample,
            "score": self.score,
            "reason": self.reason,
        }
        if self.rollout is not None:
            out["rollout"] = self.rollout
        return out


@dataclass(frozen=True)
class BatchVerdict:
    """The verdict on a batch: what the validator reveals for it, why, and each trace's result.

    ``score`` is the batch's learning signal in basis points (0 when rejected);
    ``fraud`` marks a batch no honest miner could have sent (revealed as
    ``FRAUD``, which slashes the miner's bond when a stake majority agrees);
    ``digest`` (0..127) commits to the per-trace verdicts and the rollout
    canaries, so only a validator that did the work matches it
    (docs/protocol-v2.md).
    """

    score: int
    reason: str
    traces: list[TraceResult] = field(default_factory=list)
    digest: int = 0
    fraud: bool = False

    @property
    def rejected(self) -> bool:
        """Whether the batch was rejected whole."""
        return not self.traces and self.score == 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "score": self.score,
            "reason": self.reason,
            "traces": [t.to_json() for t in self.traces],
        }


def _reject(reason: str) -> BatchVerdict:
    return BatchVerdict(0, f"rejected: {reason}")


def rollout_sample(sample_seed: bytes, cid: bytes, validator: str, count: int, k: int) -> list[int]:
    """``k`` distinct trace numbers out of ``count``, from randomness the miner could not know.

    ``sample_seed`` is the seed of the epoch *after* the batch's (fixed only
    once submissions had closed); mixing in the validator's address gives each
    validator its own sample.
    """
    chosen: list[int] = []
    counter = 0
    k = min(k, count)
    while len(chosen) < k:
        material = sample_seed + cid + bytes.fromhex(validator[2:]) + counter.to_bytes(4, "big")
        pick = int.from_bytes(keccak(material), "big") % count
        if pick not in chosen:
            chosen.append(pick)
        counter += 1
    return chosen


def _header_problem(doc: BatchDocument, ctx: BatchContext) -> str | None:
    h, r = doc.header, ctx.record
    pairs: Sequence[tuple[str, object, object]] = (
        ("chain id", h.chain_id, ctx.chain_id),
        ("contract", to_checksum_address(h.contract), to_checksum_address(ctx.contract)),
        ("epoch", h.epoch, r.epoch),
        ("miner", to_checksum_address(h.miner), r.miner),
        ("environment", h.env_id, r.env_id),
        ("environment version", h.env_version, r.env_version),
        ("sequence", h.sequence, r.sequence),
        ("model id", h.model.id, r.model_id),
        ("trace count", doc.trace_count, r.trace_count),
    )
    for name, declared, on_chain in pairs:
        if declared != on_chain:
            return f"header {name} is {declared}, the on-chain submission says {on_chain}"
    if ctx.checkpoint_cid is not None and h.model.digest != ctx.checkpoint_cid:
        return (
            f"header model digest {h.model.digest[:80]} is not model {h.model.id}'s registered "
            f"checkpoint {ctx.checkpoint_cid}"
        )
    return None


def _score_traces(doc: BatchDocument, ctx: BatchContext, env: Environment) -> BatchVerdict:
    h = doc.header
    derived: dict[int, tuple[Task, list[tuple[str, str]]]] = {}
    results: list[TraceResult] = []
    for number, trace in enumerate(doc.traces):
        if trace.task not in derived:
            index = task_index(h.sequence, trace.task)
            task = env.task(ctx.seed, h.env_id, h.env_version, h.miner, index)
            derived[trace.task] = (task, [(m["role"], m["content"]) for m in env.prompt(task)])
        task, prompt = derived[trace.task]
        if [(m.role, m.content) for m in trace.prompt] != prompt:
            return _reject(
                f"trace {number} (task {trace.task}) has a prompt that is not the derived task's"
            )
        if trace.answer != env.extract(trace.completion):
            return _reject(
                f"trace {number} declares an answer the spec does not extract from its completion"
            )
        verdict = env.score(task, trace.completion)
        results.append(TraceResult(trace.task, trace.sample, verdict.value, verdict.reason))
    if ctx.rollout is not None:
        picks = rollout_sample(
            ctx.sample_seed, ctx.record.cid, ctx.validator, len(doc.traces), ctx.rollout_samples
        )
        for number in sorted(picks):
            check = ctx.rollout(doc, number)
            old = results[number]
            results[number] = TraceResult(
                old.task, old.sample, old.score, old.reason, rollout=check.to_json()
            )
            if not check.ok:
                return _reject(f"trace {number} fails the proof of rollout: {check.reason}")
    mean = sum(r.score for r in results) / len(results)
    score = round(SCORE_SCALE * mean)
    correct = sum(1 for r in results if r.score >= 1.0)
    return BatchVerdict(score, f"{correct}/{len(results)} traces correct", results)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Keep the cycle collector out of one batch's parsing and scoring.

    A batch allocates a few objects per trace and no reference cycles, yet
    those allocations trigger full collections that walk everything the
    process holds (torch, the model, the environments): with the collector
    running, parsing took 4-5x as long. It runs again right after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def score_batch(
    data: bytes | None, ctx: BatchContext, fetch_error: str | None = None
) -> BatchVerdict:
    """The verdict on one batch (``data`` already verified against its CID by the store)."""
    with _collector_paused():
        return _score(data, ctx, fetch_error)


def _score(data: bytes | None, ctx: BatchContext, fetch_error: str | None) -> BatchVerdict:
    if data is None:
        return _reject(fetch_error or "the batch could not be fetched")
    try:
        doc = parse_batch(data)
    except BatchFormatError as exc:
        return _reject(str(exc))
    problem = _header_problem(doc, ctx)
    if problem:
        return _reject(problem)
    try:
        env = ctx.environment(doc.header.env_id, doc.header.env_version)
    except WorldGymError as exc:  # unknown version, unreadable spec, not reproducible here
        return _reject(f"environment {doc.header.env_id} v{doc.header.env_version}: {exc}")
    try:
        return _score_traces(doc, ctx, env)
    except GymError as exc:
        return _reject(f"cannot score: {exc}")
    except Exception as exc:  # a validator must give every batch a score, never crash on input
        _log.exception("unexpected error scoring batch %s", ctx.record.cid.hex())
        return _reject(f"internal error while scoring ({type(exc).__name__}: {str(exc)[:200]})")
