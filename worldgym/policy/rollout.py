"""Proof of rollout: is this completion the sample the declared model had to draw?

Sampling is a function of the chain (:mod:`worldgym.policy.gumbel`): given the model,
the task and the sample index, exactly one completion is honest. A validator
re-runs the declared model once over ``prompt + tokens`` (teacher forcing),
recomputes each position's noise from the sample's key, and checks:

1. **Shape.** The text is exactly the decoding of the tokens; an
   end-of-sequence token appears only at the end; without one, the
   completion used the whole token budget.
2. **Every token is the Gumbel-max choice.** With ``s_v = logits_v / T + g_v``,
   the token must lie in the nucleus (within :attr:`Tolerances.nucleus_mass`
   of probability mass) and ``T * (max_{v in nucleus} s_v - s_token)`` must be
   at most :attr:`Tolerances.logit_gap`, a tolerance in logit units that
   covers the numeric differences between devices, kernels and precisions
   (measured in ``bench/tolerance_bench.py``). At ``T = 0`` the token must be
   the arg-max of the logits within the same tolerance.
3. **Declared log-probabilities** (raw ``log_softmax`` at T = 1, which the
   refinery uses as behaviour log-probabilities) equal the recomputed ones
   within :attr:`Tolerances.logprob_mean_abs` on average and
   :attr:`Tolerances.logprob_max_abs` at every token.

A hand-written answer, a best-of-n pick, a greedy decode declared as T = 1,
another checkpoint's sample or an edited token each leave a position where
the token is not the noise's arg-max. The check also returns *canaries*: at
positions the caller names, the runner-up of the sampling competition
(``argmax_{v != token} s_v`` over the whole vocabulary), which only a
validator that ran the model knows; validators fold them into the digest
they reveal (docs/protocol-v2.md §3).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from worldgym.core.schemas import Sampling
from worldgym.policy.base import Messages
from worldgym.policy.errors import PolicyError
from worldgym.policy.gumbel import SampleKey, gumbel_torch, key_tensor, nucleus_masks

__all__ = [
    "LogitsModel",
    "RolloutCheck",
    "Tolerances",
    "TraceToCheck",
    "check_rollout",
    "check_rollouts",
    "verify_logits",
]


@runtime_checkable
class LogitsModel(Protocol):
    """What the proof of rollout needs of the declared model: its whole next-token
    distribution at every position, not only the log-probability of the token taken.

    :class:`~worldgym.policy.hf.TransformersPolicy` gives it; a backend that only
    returns the top log-probabilities cannot (the runner-up of the Gumbel
    competition may be any token of the vocabulary).
    """

    @property
    def vocab_size(self) -> int:
        """The number of token ids."""
        ...

    @property
    def eos_token_id(self) -> int:
        """The end-of-sequence token."""
        ...

    def decode(self, tokens: Sequence[int]) -> str:
        """The text of ``tokens`` (special tokens skipped), as the miner decoded it."""
        ...

    def teacher_forced(self, items: Sequence[tuple[Messages, Sequence[int]]]) -> Iterator[Any]:
        """Float32 logits ``[len(tokens), vocab]`` for each item's tokens, in order."""
        ...


_ROWS_PER_BLOCK = 256  # positions whose noise is materialised at once (memory: rows x vocab)


@dataclass(frozen=True)
class Tolerances:
    """How far a trace may be from the validator's recomputation and still pass.

    ``logit_gap`` (logit units) and ``nucleus_mass`` cover the float
    differences between a float32 miner and a float32 validator (batch
    sizes, padding, KV cache vs one pass: ~1e-5, bench/tolerance_bench.py)
    with a margin of several hundred times. A wider tolerance is a wider
    door: every token within it of the best may be chosen at will, and a
    miner steering such choices toward groups that disagree earned 1.12x an
    honest one at 0.05 logits (bench/attacks.py). bfloat16 sampling differs by
    up to ~0.8 logits on the same models, so the protocol asks miners for
    float32 logits.
    """

    logit_gap: float = 0.01
    nucleus_mass: float = 0.001
    logprob_mean_abs: float = 0.01
    logprob_max_abs: float = 0.05


@dataclass(frozen=True)
class TraceToCheck:
    """One trace as a validator holds it, with its sample key and the canary positions asked."""

    prompt: Messages
    tokens: Sequence[int]
    logprobs: Sequence[float]
    completion: str
    key: SampleKey
    canaries: Sequence[int] = ()


@dataclass(frozen=True)
class RolloutCheck:
    """The verdict on one trace, with the numbers behind it."""

    ok: bool
    reason: str
    tokens: int = 0
    position: int | None = None
    worst_gap: float = 0.0
    mean_abs_diff: float = 0.0
    max_abs_diff: float = 0.0
    canaries: tuple[int, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "ok": self.ok,
            "reason": self.reason,
            "tokens": self.tokens,
            "position": self.position,
            "worst_gap": round(self.worst_gap, 6),
            "mean_abs_diff": round(self.mean_abs_diff, 6),
            "max_abs_diff": round(self.max_abs_diff, 6),
        }


def _shape_problem(scorer: LogitsModel, trace: TraceToCheck, sampling: Sampling) -> str | None:
    tokens = list(trace.tokens)
    if len(tokens) != len(trace.logprobs):
        return f"{len(tokens)} tokens but {len(trace.logprobs)} log-probabilities"
    if not tokens:
        return "the completion has no tokens (a model emits at least its end token)"
    if len(tokens) > sampling.max_new_tokens:
        return f"{len(tokens)} tokens, over the budget of {sampling.max_new_tokens}"
    vocab = scorer.vocab_size
    if any(not 0 <= t < vocab for t in tokens):
        return f"a token id is outside the model's vocabulary of {vocab}"
    eos = scorer.eos_token_id
    if eos in tokens[:-1]:
        return f"an end-of-sequence token at position {tokens.index(eos)}, before the end"
    if tokens[-1] != eos and len(tokens) < sampling.max_new_tokens:
        return (
            f"the completion stops after {len(tokens)} tokens without an end-of-sequence "
            f"token and before the budget of {sampling.max_new_tokens}"
        )
    if any(not 0 <= c < len(tokens) for c in trace.canaries):
        raise ValueError(f"canary positions {list(trace.canaries)} outside {len(tokens)} tokens")
    if scorer.decode(tokens) != trace.completion:
        return "the completion text is not the decoding of its tokens"
    return None


def _scores(logits: Any, key: SampleKey, start: int, sampling: Sampling) -> Any:
    """``logits / T + g`` for positions ``start ..`` of ``logits`` (plain logits at T = 0)."""
    import torch

    if sampling.temperature == 0.0:
        return logits
    rows = logits.shape[0]
    keys = key_tensor([key], logits.device).expand(rows, 2)
    positions = torch.arange(start, start + rows, dtype=torch.int64, device=logits.device)
    return logits / sampling.temperature + gumbel_torch(keys, positions, logits.shape[-1])


def verify_logits(
    logits: Any, trace: TraceToCheck, sampling: Sampling, tol: Tolerances
) -> RolloutCheck:
    import torch

    tokens = torch.tensor(list(trace.tokens), dtype=torch.int64, device=logits.device)
    chosen = logits.log_softmax(dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    declared = torch.tensor(list(trace.logprobs), dtype=torch.float32, device=logits.device)
    diffs = (chosen - declared).abs()
    numbers: dict[str, Any] = {
        "tokens": len(trace.tokens),
        "mean_abs_diff": float(diffs.mean()),
        "max_abs_diff": float(diffs.max()),
    }
    canaries: dict[int, int] = {}
    worst = float("-inf")
    temperature = sampling.temperature
    for start in range(0, logits.shape[0], _ROWS_PER_BLOCK):
        block = logits[start : start + _ROWS_PER_BLOCK]
        picked = tokens[start : start + _ROWS_PER_BLOCK].unsqueeze(-1)
        scores = _scores(block, trace.key, start, sampling)
        if temperature == 0.0:
            gap = block.max(dim=-1).values - block.gather(-1, picked).squeeze(-1)
            in_nucleus = torch.ones_like(gap, dtype=torch.bool)
        else:
            strict, loose = nucleus_masks(
                (block / temperature).softmax(dim=-1), sampling.top_p, tol.nucleus_mass
            )
            best = scores.masked_fill(~strict, float("-inf")).max(dim=-1).values
            gap = temperature * (best - scores.gather(-1, picked).squeeze(-1))
            in_nucleus = loose.gather(-1, picked).squeeze(-1)
        worst = max(worst, float(gap.max()))
        bad = (~in_nucleus) | (gap > tol.logit_gap)
        if bool(bad.any()):
            position = start + int(bad.nonzero()[0, 0])
            local = position - start
            if not bool(in_nucleus[local]):
                why = f"is outside the top-p {sampling.top_p} nucleus"
            else:
                why = (
                    f"is not the Gumbel-max choice: token {int(scores[local].argmax())} scores "
                    f"{float(gap[local]):.3f} logits higher (tolerance {tol.logit_gap})"
                )
            return RolloutCheck(
                False,
                f"token {position} ({int(tokens[position])}) {why}",
                position=position,
                worst_gap=worst,
                **numbers,
            )
        for position in trace.canaries:
            if start <= position < start + block.shape[0]:
                row = scores[position - start].clone()
                row[int(tokens[position])] = float("-inf")
                canaries[position] = int(row.argmax())
    if (
        numbers["mean_abs_diff"] > tol.logprob_mean_abs
        or numbers["max_abs_diff"] > tol.logprob_max_abs
    ):
        return RolloutCheck(
            False,
            f"declared log-probabilities differ from the model's: mean "
            f"{numbers['mean_abs_diff']:.3f}, max {numbers['max_abs_diff']:.3f} (tolerance "
            f"{tol.logprob_mean_abs} / {tol.logprob_max_abs})",
            worst_gap=worst,
            **numbers,
        )
    return RolloutCheck(
        True,
        "every token is the declared model's Gumbel-max sample",
        worst_gap=worst,
        canaries=tuple(canaries[p] for p in trace.canaries),
        **numbers,
    )


def check_rollouts(
    scorer: LogitsModel,
    traces: Sequence[TraceToCheck],
    sampling: Sampling,
    tolerances: Tolerances | None = None,
) -> list[RolloutCheck]:
    """Check each trace against the declared model (``scorer``), in order; see the module docs.

    Traces whose shape is wrong fail without a forward pass; the rest are run
    through the model in the scorer's batches.
    """
    tol = tolerances or Tolerances()
    results: list[RolloutCheck | None] = []
    runnable: list[int] = []
    for n, trace in enumerate(traces):
        problem = _shape_problem(scorer, trace, sampling)
        results.append(RolloutCheck(False, problem, tokens=len(trace.tokens)) if problem else None)
        if problem is None:
            runnable.append(n)
    try:
        batches = scorer.teacher_forced([(traces[n].prompt, traces[n].tokens) for n in runnable])
        for n, logits in zip(runnable, batches, strict=True):
            results[n] = verify_logits(logits, traces[n], sampling, tol)
    except PolicyError as exc:
        for n in runnable:
            if results[n] is None:
                results[n] = RolloutCheck(False, str(exc), tokens=len(traces[n].tokens))
    return [r for r in results if r is not None]


def check_rollout(  # noqa: PLR0917 - the trace fields, as a validator holds them
    scorer: LogitsModel,
    prompt: Messages,
    tokens: Sequence[int],
    logprobs: Sequence[float],
    completion: str,
    sampling: Sampling,
    key: SampleKey,
    tolerances: Tolerances | None = None,
) -> RolloutCheck:
    """:func:`check_rollouts` for one trace."""
    trace = TraceToCheck(prompt, tokens, logprobs, completion, key)
    return check_rollouts(scorer, [trace], sampling, tolerances)[0]
