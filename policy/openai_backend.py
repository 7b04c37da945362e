"""The ``openai`` backend: any OpenAI-compatible completions server (e.g. ``vllm serve``).

The chat template is applied locally with the checkpoint's tokenizer and the
prompt is sent as token ids to ``POST {base_url}/completions`` with
``logprobs: 0`` and vLLM's ``return_tokens_as_token_ids`` extension, so the
answer carries the sampled token ids and their raw log-probabilities. Every
answer is validated before use: a server that answers something else is an
error that says what was wrong, never a silently shortened trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import httpx

from client.schemas import Sampling
from policy.base import Completion, Messages
from policy.errors import BackendUnavailableError, PolicyError

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
        self, prompts: Sequence[Messages], *, n: int, sampling: Sampling
    ) -> list[list[Completion]]:
        """``n`` completions per prompt, one request per prompt."""
        return [self._one(p, n, sampling) for p in prompts]

    def _one(self, prompt: Messages, n: int, sampling: Sampling) -> list[Completion]:
        ids = list(self.tokenizer.apply_chat_template(prompt, add_generation_prompt=True))
        body = {
            "model": self.served_model,
            "prompt": ids,
            "n": n,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
            "seed": sampling.seed,
            "logprobs": 0,
            "return_tokens_as_token_ids": True,
        }
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
            choices = sorted(answer.json()["choices"], key=lambda c: int(c["index"]))
            completions = [self._completion(c) for c in choices]
        except (KeyError, TypeError, ValueError) as exc:
            raise PolicyError(f"the completions server's answer is malformed: {exc!r}") from None
        if len(completions) != n:
            raise PolicyError(f"asked the server for {n} completions, got {len(completions)}")
        return completions

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
