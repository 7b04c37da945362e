"""What every generation backend gives: completions with their tokens and log-probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from client.schemas import Sampling
from policy.errors import BackendUnavailableError, PolicyError
from policy.gumbel import SampleKey

__all__ = [
    "BACKENDS",
    "Backend",
    "Completion",
    "Messages",
    "Policy",
    "chat_prompt_ids",
    "check_keys",
    "load_policy",
]

Messages = list[dict[str, str]]
Backend = Literal["transformers", "vllm", "openai"]
BACKENDS: tuple[Backend, ...] = ("transformers", "vllm", "openai")


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
    """A model that samples completions for chat prompts."""

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
        ``keys[i][j]`` (:mod:`policy.gumbel`); without keys, keys derived from
        ``seed``.
        """
        ...


def chat_prompt_ids(tokenizer: Any, prompt: Messages) -> list[int]:
    """Token ids of a chat prompt, ready for the assistant's turn, with the model's own template.

    transformers 5 returns a ``BatchEncoding`` where 4.x returned a list; both are accepted.
    """
    ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True)
    if isinstance(ids, dict) or hasattr(ids, "input_ids"):
        ids = ids["input_ids"]
    return [int(i) for i in ids]


def check_keys(keys: Sequence[Sequence[SampleKey]], prompts: int, n: int) -> None:
    """Raise PolicyError unless ``keys`` holds ``n`` keys for each of ``prompts`` prompts."""
    if len(keys) != prompts or any(len(group) != n for group in keys):
        raise PolicyError(
            f"need {n} sample keys for each of {prompts} prompts, got "
            f"{[len(group) for group in keys][:8]} for {len(keys)}"
        )


def load_policy(
    backend: Backend,
    model_dir: Path,
    *,
    device: str = "cpu",
    batch_size: int = 16,
    base_url: str | None = None,
    served_model: str | None = None,
    tensor_parallel_size: int = 1,
) -> Policy:
    """Build the chosen backend for the checkpoint in ``model_dir``.

    Each backend's packages are imported only when it is chosen: ``transformers``
    needs the ``ml`` extra, ``vllm`` the ``vllm`` extra (GPU hosts), and
    ``openai`` only httpx plus the checkpoint's tokenizer (``ml`` extra).
    """
    if backend == "transformers":
        from policy.hf import TransformersPolicy

        return TransformersPolicy(model_dir, device=device, batch_size=batch_size)
    if backend == "vllm":
        from policy.vllm_backend import VllmPolicy

        return VllmPolicy(model_dir, tensor_parallel_size=tensor_parallel_size)
    if backend == "openai":
        from policy.openai_backend import OpenAIPolicy

        if not base_url:
            raise PolicyError(
                "the openai backend needs the server's URL: pass --base-url "
                "(e.g. http://127.0.0.1:8000/v1 for `vllm serve`)"
            )
        return OpenAIPolicy(base_url, model_dir, served_model=served_model)
    raise BackendUnavailableError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
