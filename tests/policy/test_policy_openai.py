"""The openai backend against a server that runs the protocol's sampler, and clear errors.

No vLLM runs here, so the server is simulated at the transport: it does what
``vllm serve`` with WorldGym's logits processor does (the processor's core,
:class:`worldgym.policy.vllm_gumbel.GumbelRows`, rewrites each step's logits from the
request's ``vllm_xargs``; the engine takes the arg-max and reports raw
log-probabilities) with the tiny model, answering in the completions format
of ``vllm serve`` with ``return_tokens_as_token_ids`` (vLLM's server docs).
The test: the backend's completions are exactly the transformers backend's
for the same keys, so the keys reach the server intact and the processor
samples what the protocol says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from worldgym.core.schemas import Sampling
from worldgym.policy.errors import PolicyError
from worldgym.policy.gumbel import seeded_keys
from worldgym.policy.hf import TransformersPolicy
from worldgym.policy.openai_backend import OpenAIPolicy
from worldgym.policy.vllm_gumbel import GumbelRows

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.ml

SAMPLING = Sampling(temperature=0.7, top_p=0.9, max_new_tokens=8)
PROMPTS = [[{"role": "user", "content": "2+2?"}], [{"role": "user", "content": "7-3?"}]]


def _choice(ids: list[int], lps: list[float], finish: str) -> dict[str, Any]:
    return {
        "index": 0,
        "text": "",
        "finish_reason": finish,
        "logprobs": {"tokens": [f"token_id:{i}" for i in ids], "token_logprobs": lps},
    }


def _sampling_server(model: TransformersPolicy, seen: list[dict[str, Any]]) -> httpx.MockTransport:
    """What ``vllm serve`` with the processor does: greedy over GumbelRows' scores, raw logprobs."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        assert request.url.path == "/v1/completions"
        assert body["temperature"] == 0.0  # the server takes the arg-max of the processor's scores
        assert body["n"] == 1
        rows = GumbelRows()
        output: list[int] = []
        rows.add(0, body["vllm_xargs"], output)  # vLLM hands over the live output list
        logprobs: list[float] = []
        finish = "length"
        for _ in range(body["max_tokens"]):
            with torch.inference_mode():
                logits = model.model(torch.tensor([body["prompt"] + output])).logits[:, -1].float()
            raw = logits.log_softmax(dim=-1)
            token = int(rows.apply(logits.clone()).argmax(dim=-1)[0])
            output.append(token)
            logprobs.append(float(raw[0, token]))
            if token == model.eos_token_id:
                finish = "stop"
                break
        return httpx.Response(200, json={"choices": [_choice(output, logprobs, finish)]})

    return httpx.MockTransport(handle)


def _policy(tiny_dir: Path, transport: httpx.MockTransport) -> OpenAIPolicy:
    return OpenAIPolicy(
        "http://127.0.0.1:8000/v1", tiny_dir, served_model="tiny", transport=transport
    )


def test_the_server_draws_the_samples_the_keys_fix(
    tiny_dir: Path, tiny: TransformersPolicy
) -> None:
    seen: list[dict[str, Any]] = []
    keys = seeded_keys(4, len(PROMPTS), 2)
    remote = _policy(tiny_dir, _sampling_server(tiny, seen))
    got = remote.generate(PROMPTS, n=2, sampling=SAMPLING, keys=keys)
    local = tiny.generate(PROMPTS, n=2, sampling=SAMPLING, keys=keys)
    assert [[c.tokens for c in g] for g in got] == [[c.tokens for c in g] for g in local]
    for g, h in zip(got, local, strict=True):
        for a, b in zip(g, h, strict=True):
            assert a.text == b.text
            assert max(abs(x - y) for x, y in zip(a.logprobs, b.logprobs, strict=True)) < 1e-5
    assert len(seen) == 4  # one request per sample
    request = seen[0]
    assert request["prompt"] == tiny.prompt_ids(PROMPTS[0])
    assert request["logprobs"] == 0
    assert request["return_tokens_as_token_ids"]
    assert request["vllm_xargs"]["worldgym_temperature"] == 0.7
    assert request["vllm_xargs"]["worldgym_top_p"] == 0.9
    assert request["max_tokens"] == 8


def _fixed(answer: httpx.Response) -> httpx.MockTransport:
    return httpx.MockTransport(lambda _request: answer)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(503, text="busy"), "HTTP 503"),
        (httpx.Response(200, json={"nope": 1}), "malformed"),
        (httpx.Response(200, json={"choices": [_choice([1], [-1.0], "stop")]}), "end-of-sequence"),
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
                },
            ),
            "malformed",
        ),
        (httpx.Response(200, json={"choices": [_choice([1], [-1.0], "length")] * 2}), "got 2"),
    ],
)
def test_bad_answers_are_clear_errors(tiny_dir: Path, answer: httpx.Response, reason: str) -> None:
    with pytest.raises(PolicyError, match=reason):
        _policy(tiny_dir, _fixed(answer)).generate([PROMPTS[0]], n=1, sampling=SAMPLING)


def _scoring_server(model: TransformersPolicy, seen: list[dict[str, Any]]) -> httpx.MockTransport:
    """What ``vllm serve`` answers to ``prompt_logprobs: 0``: each prompt token's raw
    log-probability (its JSON keys are the token ids as strings; the first position has none)."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.append(body)
        ids = body["prompt"]
        with torch.inference_mode():
            raw = model.model(torch.tensor([ids])).logits[0].float().log_softmax(dim=-1)
        steps: list[dict[str, Any] | None] = [None]
        for position, token in enumerate(ids[1:]):
            value = float(raw[position, token])
            steps.append({str(token): {"logprob": value, "rank": 1, "decoded_token": "?"}})
        choice = _choice([0], [-1.0], "length") | {"prompt_logprobs": steps}
        return httpx.Response(200, json={"choices": [choice]})

    return httpx.MockTransport(handle)


def test_the_server_scores_given_tokens_as_the_model_does(
    tiny_dir: Path, tiny: TransformersPolicy
) -> None:
    seen: list[dict[str, Any]] = []
    remote = _policy(tiny_dir, _scoring_server(tiny, seen))
    completions = tiny.generate(PROMPTS, n=1, sampling=SAMPLING)
    items = [(p, g[0].tokens) for p, g in zip(PROMPTS, completions, strict=True)]
    got = remote.score(items)
    want = tiny.score(items)
    assert [len(x) for x in got] == [len(t) for _, t in items]
    for a, b in zip(got, want, strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-5
    assert seen[0]["prompt"] == tiny.prompt_ids(PROMPTS[0]) + list(items[0][1])
    assert seen[0]["prompt_logprobs"] == 0
    assert "vllm_xargs" not in seen[0]  # scoring is not sampling: the processor leaves it alone


def test_a_server_without_prompt_logprobs_is_a_clear_error(tiny_dir: Path) -> None:
    answer = httpx.Response(200, json={"choices": [_choice([0], [-1.0], "length")]})
    with pytest.raises(PolicyError, match="prompt log-probabilities are malformed"):
        _policy(tiny_dir, _fixed(answer)).score([(PROMPTS[0], [5, 6])])
