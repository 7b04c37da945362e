"""The ``openai`` backend: an OpenAI-compatible completions server running the protocol's sampler.

The server must draw Gumbel-max samples with the chain's noise, which a plain
server cannot; run vLLM with WorldGym's logits processor::

    VLLM_USE_V2_MODEL_RUNNER=0 vllm serve MODEL_DIR \
        --logits-processors worldgym.policy.vllm_gumbel:GumbelMaxLogitsProcessor

Each sample is one request to ``POST {base_url}/completions`` with
``temperature: 0`` (the server takes the arg-max of the processor's scores),
the sample's key and the environment's temperature and top-p in
``vllm_xargs``, the prompt as token ids made locally with the checkpoint's
chat template, ``logprobs: 0`` and vLLM's ``return_tokens_as_token_ids``, so
the answer carries the sampled token ids and their raw log-probabilities.
Every answer is validated before use: a server that answers something else is
an error that says what was wrong, never a silently shortened trace; a server
without the processor samples greedily, and validators reject its batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import httpx

from worldgym.core.prompts import chat_prompt_ids
from worldgym.core.schemas import Sampling
from worldgym.policy.base import Completion, Messages, sample_keys
from worldgym.policy.errors import BackendUnavailableError, PolicyError
from worldgym.policy.gumbel import SampleKey
from worldgym.policy.vllm_backend import prompt_token_logprobs
from worldgym.policy.vllm_gumbel import request_args

__all__ = ["OpenAIPolicy"]

_MAX_ANSWER_BYTES = 64 * 1024 * 1024


class OpenAIPolicy:
    """Completions from a server; the local checkpoint supplies the tokenizer."""

    def __init__(
        self,
        base_url: str,
        model_dir: Path,
        *,
        served_model: str | None = None,
        timeout_s: float = 600.0,
        transport: httpx.BaseTransport | None = None,
        api_key: str | None = None,
    ) -> None:
        try:
            from transformers import AutoTokenizer
        except ImportError as exc:
            raise BackendUnavailableError(
                f"the openai backend needs the checkpoint's tokenizer (the ml extra): {exc}"
            ) from None
        self.base_url = base_url.rstrip("/")
        self.model_dir = Path(model_dir)
        self.served_model = served_model or str(model_dir)
        self.tokenizer: Any = AutoTokenizer.from_pretrained(model_dir)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(timeout=timeout_s, transport=transport, headers=headers)

    @property
    def name(self) -> str:
        """``openai:<served model>@<url>``."""
        return f"openai:{self.served_model}@{self.base_url}"

    def generate(
        self,
        prompts: Sequence[Messages],
        *,
        n: int,
        sampling: Sampling,
        keys: Sequence[Sequence[SampleKey]] | None = None,
        seed: int = 0,
    ) -> list[list[Completion]]:
        """``n`` completions per prompt, one request per sample (each has its own key)."""
        keys = sample_keys(keys, seed, len(prompts), n)
        out = []
        for prompt, group in zip(prompts, keys, strict=True):
            ids = chat_prompt_ids(self.tokenizer, prompt)
            out.append([self._one(ids, key, sampling) for key in group])
        return out

    def score(self, items: Sequence[tuple[Messages, Sequence[int]]]) -> list[list[float]]:
        """Raw log-probabilities of each item's tokens, one request per item.

        The request sends ``prompt + tokens`` as token ids with vLLM's
        ``prompt_logprobs: 0`` (each prompt token's own log-probability, from
        the raw logits) and ``max_tokens: 1``; the token generated is discarded.
        """
        out = []
        for prompt, tokens in items:
            head = chat_prompt_ids(self.tokenizer, prompt)
            body = {
                "model": self.served_model,
                "prompt": head + [int(t) for t in tokens],
                "n": 1,
                "temperature": 0.0,
                "max_tokens": 1,
                "prompt_logprobs": 0,
            }
            choice = self._post(body)
            try:
                out.append(prompt_token_logprobs(choice["prompt_logprobs"], len(head), tokens))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise PolicyError(
                    f"the completions server's prompt log-probabilities are malformed: {exc!r}"
                ) from None
        return out

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST one completions request; its only choice, checked."""
        try:
            answer = self._http.post(f"{self.base_url}/completions", json=body)
        except httpx.HTTPError as exc:
            raise PolicyError(f"the completions server at {self.base_url} failed: {exc}") from None
        if answer.status_code != 200:
            raise PolicyError(
                f"the completions server answered HTTP {answer.status_code}: {answer.text[:300]}"
            )
        if len(answer.content) > _MAX_ANSWER_BYTES:
            raise PolicyError("the completions server's answer is over 64 MiB")
        try:
            choices = answer.json()["choices"]
            if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
                raise TypeError("choices is not a list of objects")
        except (KeyError, TypeError, ValueError) as exc:
            raise PolicyError(f"the completions server's answer is malformed: {exc!r}") from None
        if len(choices) != 1:
            raise PolicyError(f"asked the server for 1 completion, got {len(choices)}")
        return dict(choices[0])

    def _one(self, ids: list[int], key: SampleKey, sampling: Sampling) -> Completion:
        body = {
            "model": self.served_model,
            "prompt": ids,
            "n": 1,
            "temperature": 0.0,
            "max_tokens": sampling.max_new_tokens,
            "logprobs": 0,
            "return_tokens_as_token_ids": True,
            "vllm_xargs": request_args(key, sampling.temperature, sampling.top_p),
        }
        choice = self._post(body)
        try:
            return self._completion(choice)
        except (KeyError, TypeError, ValueError) as exc:
            raise PolicyError(f"the completions server's answer is malformed: {exc!r}") from None

    def _completion(self, choice: dict[str, Any]) -> Completion:
        lp = choice["logprobs"]
        tokens = [_token_id(t) for t in lp["tokens"]]
        logprobs = [float(x) for x in lp["token_logprobs"]]
        eos = int(self.tokenizer.eos_token_id)
        reason: Literal["stop", "length"] = (
            "stop" if choice["finish_reason"] == "stop" else "length"
        )
        if reason == "stop" and (not tokens or tokens[-1] != eos):
            raise PolicyError(
                "the server stopped without reporting the end-of-sequence token; run vLLM with "
                "the tokens as ids (return_tokens_as_token_ids) and no custom stop strings"
            )
        text = str(self.tokenizer.decode(tokens, skip_special_tokens=True))
        return Completion(text, tokens, logprobs, reason)


def _token_id(token: str) -> int:
    prefix = "token_id:"
    if not isinstance(token, str) or not token.startswith(prefix):
        raise ValueError(f"token {token!r:.40} is not 'token_id:N' (return_tokens_as_token_ids)")
    return int(token[len(prefix) :])
