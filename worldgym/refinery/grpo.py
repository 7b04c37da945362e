"""The GRPO objective on the miners' rollouts: group advantages, sampling log-probabilities, loss.

The protocol collects exactly what GRPO needs: ``G`` samples per task, each
with its verified score, its sampled token ids and the sampling model's
log-probabilities. Three pure functions turn them into a loss:

* :func:`group_advantages`: each sample's score minus its group's mean, over
  the group's standard deviation (``scale_rewards``; Dr. GRPO leaves it out),
  as TRL's ``GRPOTrainer`` computes them;
* :func:`sampling_logprobs`: the log-probability that the sampler draws each
  token, ``log q(x_t)`` with ``q`` the softmax of ``logits / T`` restricted to
  the top-p nucleus (docs/protocol-v2.md §1). It is computed the same way for
  the policy being trained and for the behaviour model, so the ratio of the
  two is exactly 1 when they are the same model;
* :func:`grpo_loss`: the clipped surrogate against the **behaviour**
  probabilities ``mu`` (the rollouts were sampled by an earlier model, so the
  objective is off-policy), with the ratio's unclipped branch capped at
  ``delta`` and an optional k3 KL term to the parent; token-level mean
  (DAPO / TRL's default ``loss_type="dapo"``).

Why not TRL's ``GRPOTrainer`` for the loss: it accepts external rollouts
(``rollout_func``), but it takes the ratio against its *own* recomputation of
the current model (``old_per_token_logps``) and uses the rollout's
log-probabilities only as a vLLM correction factor when it runs vLLM itself;
its sampler draws and repeats prompts and hands ``rollout_func`` only their
text, so two groups with the same question cannot be told apart; and it
re-scores completions with reward functions while the refinery already holds
the validators' verified scores. :mod:`worldgym.refinery.train_grpo` therefore feeds
these functions from a compact loop, and ``bench/refinery_bench.py`` measures
it against ``GRPOTrainer`` on the same rollouts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from worldgym.refinery.config import GrpoConfig

__all__ = [
    "ADVANTAGE_EPS",
    "LossStats",
    "group_advantages",
    "grpo_loss",
    "sampling_logprobs",
]

ADVANTAGE_EPS = 1e-4
"""Added to a group's standard deviation before dividing (TRL's value)."""

_MAX_LOG_RATIO = 20.0


def group_advantages(scores: Sequence[float], *, scale: bool = True) -> list[float]:
    """Each sample's advantage within its group: ``(s - mean) / (std + eps)``, or ``s - mean``.

    ``std`` is the sample standard deviation (``n - 1``), as in TRL. A group
    whose samples all scored the same has advantages of exactly zero.
    """
    n = len(scores)
    if n == 0:
        return []
    mean = sum(scores) / n
    centred = [s - mean for s in scores]
    if not scale:
        return centred
    if n < 2:
        return [0.0]
    std = math.sqrt(sum(c * c for c in centred) / (n - 1))
    return [c / (std + ADVANTAGE_EPS) for c in centred]


def sampling_logprobs(logits: Any, tokens: Any, temperature: float, top_p: float) -> Any:
    """``log q(x_t)`` for ``tokens`` ``[B, C]`` under ``logits`` ``[B, C, V]`` (differentiable).

    ``q`` is what the protocol samples from: ``softmax(logits / T)`` over the
    top-p nucleus (the smallest set of most probable tokens whose mass reaches
    ``top_p``), renormalised. The sampled token always counts as inside, so the
    value stays finite for a policy whose nucleus has moved; for the model that
    drew the token it is inside anyway. The nucleus is a fixed set (no
    gradient through its boundary). ``T = 0`` (greedy) has no probabilities to
    learn from and is refused.
    """
    import torch

    if temperature <= 0.0:
        raise ValueError("greedy sampling (temperature 0) has no sampling probabilities")
    scaled = logits.float()
    if temperature != 1.0:
        scaled = scaled / temperature
    if top_p < 1.0:
        from worldgym.policy.gumbel import nucleus_masks

        with torch.no_grad():
            keep, _ = nucleus_masks(scaled.softmax(dim=-1), top_p)
            keep = keep.scatter(-1, tokens.unsqueeze(-1), True)
        scaled = scaled.masked_fill(~keep, float("-inf"))
    chosen = scaled.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    return chosen - torch.logsumexp(scaled, dim=-1)


@dataclass(frozen=True)
class LossStats:
    """Diagnostics of one loss evaluation (means over the unmasked tokens)."""

    ratio: float
    clipped: float
    kl: float


def grpo_loss(
    logp: Any,
    behaviour_logp: Any,
    advantages: Any,
    mask: Any,
    config: GrpoConfig,
    *,
    ref_logp: Any | None = None,
    normalizer: float | None = None,
) -> tuple[Any, LossStats]:
    """The GRPO loss of a batch of completions and its diagnostics.

    Args:
        logp: ``[B, C]`` log-probabilities of the completion tokens under the
            policy being trained (:func:`sampling_logprobs`, with gradient).
        behaviour_logp: ``[B, C]`` the same under the model that sampled them.
        advantages: ``[B]`` one advantage per completion (:func:`group_advantages`).
        mask: ``[B, C]`` 1 for completion tokens, 0 for padding.
        config: clipping, ``delta`` and ``kl_beta``.
        ref_logp: ``[B, C]`` under the parent, needed when ``kl_beta > 0``.
        normalizer: the token count the sum is divided by (default: this
            batch's); pass the whole optimizer step's when accumulating
            gradients, so every token weighs the same.

    Per token, with ``r = exp(logp - behaviour_logp)``::

        loss_t = -min(min(r, delta) * A, clip(r, 1 - clip_low, 1 + clip_high) * A)
                 + kl_beta * (exp(ref - logp) - (ref - logp) - 1)

    so a token whose ratio has left the trust region in its advantage's
    direction stops pulling, and one that moved the other way still does.
    """
    import torch

    mask = mask.to(logp.dtype)
    adv = advantages.to(logp.dtype).unsqueeze(-1)
    ratio = torch.exp((logp - behaviour_logp).clamp(-_MAX_LOG_RATIO, _MAX_LOG_RATIO))
    clipped = ratio.clamp(1.0 - config.clip_low, 1.0 + config.clip_high)
    capped = ratio if config.delta is None else ratio.clamp(max=config.delta)
    per_token = -torch.minimum(capped * adv, clipped * adv)
    kl = torch.zeros_like(logp)
    if config.kl_beta > 0.0:
        if ref_logp is None:
            raise ValueError("kl_beta > 0 needs the parent's log-probabilities (ref_logp)")
        diff = ref_logp - logp
        kl = torch.exp(diff) - diff - 1.0
        per_token = per_token + config.kl_beta * kl
    count = mask.sum()
    total = float(count) if normalizer is None else normalizer
    loss = (per_token * mask).sum() / max(total, 1.0)
    with torch.no_grad():
        outside = ((ratio > 1.0 + config.clip_high) & (adv > 0)) | (
            (ratio < 1.0 - config.clip_low) & (adv < 0)
        )
        tokens = max(float(count), 1.0)
        stats = LossStats(
            ratio=float((ratio * mask).sum()) / tokens,
            clipped=float((outside.to(mask.dtype) * mask).sum()) / tokens,
            kl=float((kl * mask).sum()) / tokens,
        )
    return loss, stats
