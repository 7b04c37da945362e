"""Proof of rollout: would the declared model have produced this completion?

A validator re-runs the declared model over ``prompt + tokens`` (one forward
pass) and applies four tests; failing any one fails the trace:

1. **Text.** The completion text is exactly the decoding of its tokens, and
   the tokens stop where the model would have stopped (an end-of-sequence
   token only at the end; no end token only when the token budget ran out).
2. **Log-probabilities.** The declared per-token log-probabilities equal the
   recomputed ones within :attr:`Tolerances.logprob_mean_abs` on average and
   :attr:`Tolerances.logprob_max_abs` at every token. Same weights on another
   device or kernel differ by ~1e-3 in float32 and ~0.05 in bf16; an edited
   token, or a trace from another model, differs by nats.
3. **Support.** Every token could have been drawn with the declared
   sampling settings: inside the top-p nucleus, or the arg-max at
   temperature 0 (within :attr:`Tolerances.greedy_margin`).
4. **Likelihood.** Under honest sampling, ``sum(log p(x_t) - E_q[log p])``
   over the completion has mean 0 and variance ``sum(Var_q[log p])``, where
   q is the sampling distribution (temperature and top-p applied). Its
   z-score must be above :attr:`Tolerances.min_z` (default -6: an honest
   trace fails with probability about 1e-9 by a Gaussian tail; hand-written
   text, a solver's answer or another model's sample scores far lower once it
   has a few tokens).

These checks are what make a correct answer also an honest rollout; TOPLOC
(Prime Intellect) takes the same idea to activations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from client.schemas import Sampling
from policy.base import Messages
from policy.errors import PolicyError
from policy.hf import TransformersPolicy

__all__ = ["RolloutCheck", "Tolerances", "check_rollout"]


@dataclass(frozen=True)
class Tolerances:
    """How far a trace may be from the validator's recomputation and still pass."""

    logprob_mean_abs: float = 0.05
    logprob_max_abs: float = 0.5
    greedy_margin: float = 0.05
    min_z: float = -6.0


@dataclass(frozen=True)
class RolloutCheck:
    """The verdict on one trace, with the numbers behind it."""

    ok: bool
    reason: str
    tokens: int = 0
    mean_abs_diff: float = 0.0
    max_abs_diff: float = 0.0
    z: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "ok": self.ok,
            "reason": self.reason,
            "tokens": self.tokens,
            "mean_abs_diff": round(self.mean_abs_diff, 6),
            "max_abs_diff": round(self.max_abs_diff, 6),
            "z": round(self.z, 3),
        }


def _fail(reason: str, **numbers: Any) -> RolloutCheck:
    return RolloutCheck(False, reason, **numbers)


def _shape_problem(
    scorer: TransformersPolicy, tokens: Sequence[int], completion: str, sampling: Sampling
) -> str | None:
    if not tokens:
        return "the completion has no tokens (a model emits at least its end token)"
    if len(tokens) > sampling.max_new_tokens:
        return f"{len(tokens)} tokens, over the declared budget of {sampling.max_new_tokens}"
    eos = scorer.eos_token_id
    if eos in tokens[:-1]:
        return f"an end-of-sequence token at position {list(tokens).index(eos)}, before the end"
    if tokens[-1] != eos and len(tokens) < sampling.max_new_tokens:
        return (
            f"the completion stops after {len(tokens)} tokens without an end-of-sequence "
            f"token and before the budget of {sampling.max_new_tokens}"
        )
    if scorer.decode(tokens) != completion:
        return "the completion text is not the decoding of its tokens"
    return None


def check_rollout(  # noqa: PLR0917 - the trace fields, as a validator holds them
    scorer: TransformersPolicy,
    prompt: Messages,
    tokens: Sequence[int],
    logprobs: Sequence[float],
    completion: str,
    sampling: Sampling,
    tolerances: Tolerances | None = None,
) -> RolloutCheck:
    """Test one trace against the declared model (``scorer``); see the module docstring."""
    tol = tolerances or Tolerances()
    if len(tokens) != len(logprobs):
        return _fail(f"{len(tokens)} tokens but {len(logprobs)} log-probabilities")
    problem = _shape_problem(scorer, tokens, completion, sampling)
    if problem:
        return _fail(problem, tokens=len(tokens))
    try:
        stats = scorer.stats(prompt, tokens, sampling)
    except PolicyError as exc:
        return _fail(str(exc), tokens=len(tokens))
    diffs = [abs(a - b) for a, b in zip(stats.logprobs, logprobs, strict=True)]
    mean_diff, max_diff = sum(diffs) / len(diffs), max(diffs)
    spread = sum(stats.variance)
    shift = sum(a - b for a, b in zip(stats.logprobs, stats.expected, strict=True))
    z = shift / math.sqrt(spread) if spread > 1e-9 else 0.0
    numbers: dict[str, Any] = {
        "tokens": len(tokens),
        "mean_abs_diff": mean_diff,
        "max_abs_diff": max_diff,
        "z": z,
    }
    if mean_diff > tol.logprob_mean_abs or max_diff > tol.logprob_max_abs:
        worst = diffs.index(max_diff)
        return _fail(
            f"declared log-probabilities differ from the model's: mean {mean_diff:.3f}, "
            f"max {max_diff:.3f} at token {worst} (tolerance {tol.logprob_mean_abs} / "
            f"{tol.logprob_max_abs})",
            **numbers,
        )
    if sampling.temperature == 0.0:
        for i, (lp, top) in enumerate(zip(stats.logprobs, stats.top, strict=True)):
            if top - lp > tol.greedy_margin:
                return _fail(f"token {i} is not the model's greedy choice", **numbers)
    elif not all(stats.in_nucleus):
        first = stats.in_nucleus.index(False)
        return _fail(f"token {first} is outside the top-p {sampling.top_p} nucleus", **numbers)
    if sampling.temperature > 0.0 and z < tol.min_z:
        return _fail(
            f"the completion is far less likely under the declared model than its samples "
            f"(z = {z:.1f} < {tol.min_z})",
            **numbers,
        )
    return RolloutCheck(True, "consistent with the declared model", **numbers)
