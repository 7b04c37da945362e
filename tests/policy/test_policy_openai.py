"""The openai backend at the transport level: request shape, answer validation, clear errors.

The answers follow the completions format of ``vllm serve`` with
``return_tokens_as_token_ids`` (vLLM's OpenAI-compatible server docs); no
server can run here, so they are written from that format, not recorded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from client.schemas import Sampling
from policy.errors import PolicyError
from policy.openai_backend import OpenAIPolicy

pytestmark = pytest.mark.ml

FOUR, FIVE = 19, 20  # "4" and "5" in the tiny byte-level vocabulary
SAMPLING = Sampling(temperature=0.7, top_p=0.9, max_new_tokens=8, seed=1)
PROMPT = [{"role": "user", "content": "2+2?"}]


def _choice(index: int, ids: list[int], lps: list[float], finish: str) -> dict[str, Any]:
    return {
        "index": index,
        "text": "",
        "finish_reason": finish,
        "logprobs": {"tokens": [f"token_id:{i}" for i in ids], "token_logprobs": lps},
    }


def _policy(tiny_dir: Path, answer: httpx.Response, seen: list[dict[str, Any]]) -> OpenAIPolicy:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        assert request.url.path == "/v1/completions"
        return answer

    return OpenAIPolicy(
        "http://127.0.0.1:8000/v1",
        tiny_dir,
        served_model="tiny",
        transport=httpx.MockTransport(handle),
    )


def test_completions_carry_token_ids_and_logprobs(tiny_dir: Path) -> None:
    seen: list[dict[str, Any]] = []
    body = {
        "choices": [
            _choice(1, [FOUR, 257], [-0.5, -0.1], "stop"),
            _choice(0, [FOUR, FIVE], [-1.0, -2.0], "length"),
        ]
    }
    policy = _policy(tiny_dir, httpx.Response(200, json=body), seen)
    (group,) = policy.generate([PROMPT], n=2, sampling=SAMPLING)
    assert [c.tokens for c in group] == [[FOUR, FIVE], [FOUR, 257]]
    assert [c.finish_reason for c in group] == ["length", "stop"]
    assert group[1].text == "4"
    assert group[1].logprobs == [-0.5, -0.1]
    request = seen[0]
    assert request["n"] == 2
    assert request["logprobs"] == 0
    assert request["return_tokens_as_token_ids"]
    assert request["prompt"] == list(
        policy.tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True)
    )
    assert (request["temperature"], request["top_p"], request["max_tokens"], request["seed"]) == (
        0.7,
        0.9,
        8,
        1,
    )


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(503, text="busy"), "HTTP 503"),
        (httpx.Response(200, json={"nope": 1}), "malformed"),
        (
            httpx.Response(200, json={"choices": [_choice(0, [1], [-1.0], "stop")] * 2}),
            "end-of-sequence",
        ),
        (
            httpx.Response(
                200,
                json={
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "length",
                            "logprobs": {"tokens": ["hi"], "token_logprobs": [-1.0]},
                        }
                    ]
                    * 2
                },
            ),
            "malformed",
        ),
        (httpx.Response(200, json={"choices": [_choice(0, [1], [-1.0], "length")]}), "got 1"),
    ],
)
def test_bad_answers_are_clear_errors(tiny_dir: Path, answer: httpx.Response, reason: str) -> None:
    with pytest.raises(PolicyError, match=reason):
        _policy(tiny_dir, answer, []).generate([PROMPT], n=2, sampling=SAMPLING)
