"""The ``vllm`` backend: vLLM's offline engine on a GPU host (the ``vllm`` extra).

vLLM is imported only when this backend is built. The engine loads the
protocol's sampler (:mod:`worldgym.policy.vllm_gumbel`) and every sample is its own
request with ``temperature = 0`` and the sample's key in ``extra_args``, so
vLLM draws exactly the Gumbel-max sample the chain fixed (continuous batching
still runs all of them together). Prompts go in as token ids made with the
checkpoint's own chat template, so the tokens a validator re-scores are
exactly the ones the engine saw. vLLM reports raw-model log-probabilities of
the sampled tokens (``logprobs=0``, its default ``logprobs_mode``), the same
quantity the transformers backend records; the end-of-sequence token is part
of ``token_ids`` when generation stopped on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from worldgym.core.prompts import chat_prompt_ids
from worldgym.core.schemas import Sampling
from worldgym.policy.base import Completion, Messages, sample_keys
from worldgym.policy.errors import BackendUnavailableError, PolicyError
from worldgym.policy.gumbel import SampleKey
from worldgym.policy.vllm_gumbel import request_args

__all__ = ["VllmPolicy", "prompt_token_logprobs"]


class VllmPolicy:
    """A local checkpoint served by ``vllm.LLM`` (tensor parallel across GPUs if asked)."""

    def __init__(self, model_dir: Path, *, tensor_parallel_size: int = 1) -> None:
        try:
            import vllm

            from worldgym.policy.vllm_gumbel import GumbelMaxLogitsProcessor
        except ImportError as exc:
            raise BackendUnavailableError(
                f"the vllm backend needs the vllm extra on a GPU host "
                f"(pip install 'worldgym[vllm]'): {exc}"
            ) from None
        self.model_dir = Path(model_dir)
        self._vllm: Any = vllm
        self.llm: Any = vllm.LLM(
            model=str(model_dir),
            tensor_parallel_size=tensor_parallel_size,
            seed=0,
            logits_processors=[GumbelMaxLogitsProcessor],
        )
        self.tokenizer: Any = self.llm.get_tokenizer()

    @property
    def name(self) -> str:
        """``vllm:<model dir name>``."""
        return f"vllm:{self.model_dir.name}"

    def generate(
        self,
        prompts: Sequence[Messages],
        *,
        n: int,
        sampling: Sampling,
        keys: Sequence[Sequence[SampleKey]] | None = None,
        seed: int = 0,
    ) -> list[list[Completion]]:
        """``n`` completions per prompt, one request per sample, from one engine call."""
        keys = sample_keys(keys, seed, len(prompts), n)
        inputs, params = [], []
        for prompt, group in zip(prompts, keys, strict=True):
            ids = chat_prompt_ids(self.tokenizer, prompt)
            for key in group:
                inputs.append({"prompt_token_ids": ids})
                params.append(
                    self._vllm.SamplingParams(
                        n=1,
                        temperature=0.0,
                        max_tokens=sampling.max_new_tokens,
                        logprobs=0,
                        extra_args=request_args(key, sampling.temperature, sampling.top_p),
                    )
                )
        results = self.llm.generate(inputs, params, use_tqdm=False)
        flat = [_completion(r.outputs[0]) for r in results]
        return [flat[i * n : (i + 1) * n] for i in range(len(prompts))]

    def score(self, items: Sequence[tuple[Messages, Sequence[int]]]) -> list[list[float]]:
        """Raw log-probabilities of each item's tokens, from vLLM's prompt log-probabilities.

        Each item is one request over ``prompt + tokens`` with ``prompt_logprobs=0``
        (the log-probability of every prompt token itself, from the raw logits,
        before any logits processor); the one token generated is discarded.
        """
        heads = [chat_prompt_ids(self.tokenizer, prompt) for prompt, _ in items]
        inputs = [{"prompt_token_ids": h + [int(t) for t in tokens]}
                  for h, (_, tokens) in zip(heads, items, strict=True)]  # fmt: skip
        params = self._vllm.SamplingParams(n=1, temperature=0.0, max_tokens=1, prompt_logprobs=0)
        try:
            results = self.llm.generate(inputs, params, use_tqdm=False)
        except ValueError as exc:  # e.g. a token id outside the vocabulary
            raise PolicyError(f"vLLM cannot score these tokens: {exc}") from None
        return [
            prompt_token_logprobs(r.prompt_logprobs, len(h), tokens)
            for r, h, (_, tokens) in zip(results, heads, items, strict=True)
        ]


def prompt_token_logprobs(
    steps: Sequence[Mapping[Any, Any] | None] | None, start: int, tokens: Sequence[int]
) -> list[float]:
    """The log-probabilities of ``tokens`` at prompt positions ``start...`` of vLLM's
    ``prompt_logprobs`` (a mapping per position from token id to a ``Logprob`` or,
    from the server, to ``{"logprob": x}``; the server's JSON keys are strings)."""
    if steps is None or len(steps) != start + len(tokens):
        raise PolicyError("the engine returned no log-probability for some scored tokens")
    out = []
    for step, token in zip(steps[start:], tokens, strict=True):
        entry = None if step is None else step.get(token, step.get(str(token)))
        if entry is None:
            raise PolicyError(f"the engine's prompt log-probabilities miss token {token}")
        value = entry["logprob"] if isinstance(entry, Mapping) else entry.logprob
        out.append(float(value))
    return out


def _completion(output: Any) -> Completion:
    tokens = [int(t) for t in output.token_ids]
    if output.logprobs is None or len(output.logprobs) != len(tokens):
        raise PolicyError("vLLM returned no log-probability for some sampled tokens")
    logprobs = [float(step[t].logprob) for step, t in zip(output.logprobs, tokens, strict=True)]
    reason: Literal["stop", "length"] = "stop" if output.finish_reason == "stop" else "length"
    return Completion(str(output.text), tokens, logprobs, reason)
