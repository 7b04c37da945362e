"""What every backend gives: sampled completions with their log-probabilities, and scores.

A :class:`Policy` samples (:meth:`Policy.generate`, the miner's job, keyed by
the chain) and scores given tokens (:meth:`Policy.score`, teacher forcing:
what the validator and the refinery recompute). Build one with
:func:`worldgym.policy.backends.load_policy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from worldgym.core.schemas import Sampling
from worldgym.policy.errors import PolicyError
from worldgym.policy.gumbel import SampleKey, seeded_keys

__all__ = ["Completion", "Messages", "Policy", "sample_keys"]

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Completion:
    """One sampled completion.

    ``tokens`` are the generated token ids, ending with the end-of-sequence
    token when the model stopped by itself (``finish_reason == "stop"``).
    ``logprobs[i]`` is the model's raw log-probability of ``tokens[i]`` given
    the prompt and the tokens before it: ``log_softmax`` of the logits at
    temperature 1 with no top-p, whatever the sampling settings were. That is
    the quantity a validator can recompute with one forward pass.
    """

    text: str
    tokens: list[int] = field(repr=False)
    logprobs: list[float] = field(repr=False)
    finish_reason: Literal["stop", "length"]

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.logprobs):
            raise PolicyError(
                f"a completion has {len(self.tokens)} tokens but {len(self.logprobs)} logprobs"
            )


@runtime_checkable
class Policy(Protocol):
    """A model that samples completions for chat prompts and scores given ones."""

    @property
    def name(self) -> str:
        """A short description for logs and progress bars (backend and model)."""
        ...

    def generate(
        self,
        prompts: Sequence[Messages],
        *,
        n: int,
        sampling: Sampling,
        keys: Sequence[Sequence[SampleKey]] | None = None,
        seed: int = 0,
    ) -> list[list[Completion]]:
        """``n`` completions for each prompt, in prompt order.

        Completion ``j`` of prompt ``i`` is the Gumbel-max sample with key
        ``keys[i][j]`` (:mod:`worldgym.policy.gumbel`); without keys, keys derived from
        ``seed``.
        """
        ...

    def score(self, items: Sequence[tuple[Messages, Sequence[int]]]) -> list[list[float]]:
        """The raw log-probability of each token of each ``(prompt, tokens)`` item.

        ``result[i][j]`` is ``log_softmax`` at temperature 1 of the model's
        logits for ``tokens[j]`` given the prompt and ``tokens[:j]``: the number
        :attr:`Completion.logprobs` records, recomputed by teacher forcing.
        """
        ...


def sample_keys(
    keys: Sequence[Sequence[SampleKey]] | None, seed: int, prompts: int, n: int
) -> Sequence[Sequence[SampleKey]]:
    """The keys for ``n`` samples of each of ``prompts`` prompts: ``keys``, else ``seed``'s.

    Raises:
        PolicyError: ``n`` is below 1, or ``keys`` does not hold ``n`` keys per prompt.
    """
    if n < 1:
        raise PolicyError(f"n must be at least 1, not {n}")
    keys = seeded_keys(seed, prompts, n) if keys is None else keys
    if len(keys) != prompts or any(len(group) != n for group in keys):
        raise PolicyError(
            f"need {n} sample keys for each of {prompts} prompts, got "
            f"{[len(group) for group in keys][:8]} for {len(keys)}"
        )
    return keys
