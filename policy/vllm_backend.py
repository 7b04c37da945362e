"""The ``vllm`` backend: vLLM's offline engine on a GPU host (the ``vllm`` extra).

vLLM is imported only when this backend is built. Prompts go in as token ids
made with the checkpoint's own chat template, so the tokens a validator
re-scores are exactly the ones the engine saw. vLLM reports raw-model
log-probabilities of the sampled tokens (``logprobs=0``), the same quantity
the transformers backend records; the end-of-sequence token is part of
``token_ids`` when generation stopped on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from client.schemas import Sampling
from policy.base import Completion, Messages
from policy.errors import BackendUnavailableError, PolicyError

__all__ = ["VllmPolicy"]


class VllmPolicy:
    """A local checkpoint served by ``vllm.LLM`` (tensor parallel across GPUs if asked)."""

    def __init__(self, model_dir: Path, *, tensor_parallel_size: int = 1) -> None:
        try:
            import vllm
        except ImportError as exc:
            raise BackendUnavailableError(
                f"the vllm backend needs the vllm extra on a GPU host "
                f"(pip install 'worldgym[vllm]'): {exc}"
            ) from None
        self.model_dir = Path(model_dir)
        self._vllm: Any = vllm
        self.llm: Any = vllm.LLM(
            model=str(model_dir), tensor_parallel_size=tensor_parallel_size, seed=0
        )
        self.tokenizer: Any = self.llm.get_tokenizer()

    @property
    def name(self) -> str:
        """``vllm:<model dir name>``."""
        return f"vllm:{self.model_dir.name}"

    def generate(
        self, prompts: Sequence[Messages], *, n: int, sampling: Sampling
    ) -> list[list[Completion]]:
        """``n`` completions per prompt from one engine call (continuous batching)."""
        params = self._vllm.SamplingParams(
            n=n,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_new_tokens,
            seed=sampling.seed,
            logprobs=0,
        )
        inputs = [
            {
                "prompt_token_ids": list(
                    self.tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=True)
                )
            }
            for p in prompts
        ]
        results = self.llm.generate(inputs, params, use_tqdm=False)
        return [[_completion(o) for o in r.outputs] for r in results]


def _completion(output: Any) -> Completion:
    tokens = [int(t) for t in output.token_ids]
    if output.logprobs is None or len(output.logprobs) != len(tokens):
        raise PolicyError("vLLM returned no log-probability for some sampled tokens")
    logprobs = [float(step[t].logprob) for step, t in zip(output.logprobs, tokens, strict=True)]
    reason: Literal["stop", "length"] = "stop" if output.finish_reason == "stop" else "length"
    return Completion(str(output.text), tokens, logprobs, reason)
