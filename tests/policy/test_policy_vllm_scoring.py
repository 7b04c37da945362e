"""Reading vLLM's prompt log-probabilities: the engine's objects and the server's JSON alike."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from worldgym.policy.errors import PolicyError
from worldgym.policy.vllm_backend import prompt_token_logprobs


@dataclass
class Logprob:
    """The shape of ``vllm.logprobs.Logprob`` (what ``RequestOutput.prompt_logprobs`` holds)."""

    logprob: float
    rank: int | None = None
    decoded_token: str | None = None


def test_the_engine_and_the_server_shapes_read_the_same() -> None:
    engine = [None, {7: Logprob(-0.5)}, {8: Logprob(-1.5), 3: Logprob(-0.1, 1)}, {9: Logprob(-2.0)}]
    server = [None, {"7": {"logprob": -0.5}}, {"8": {"logprob": -1.5}}, {"9": {"logprob": -2.0}}]
    assert prompt_token_logprobs(engine, 2, [8, 9]) == [-1.5, -2.0]
    assert prompt_token_logprobs(server, 2, [8, 9]) == [-1.5, -2.0]
    assert prompt_token_logprobs(engine, 4, []) == []


@pytest.mark.parametrize(
    ("steps", "reason"),
    [
        (None, "no log-probability"),
        ([None, {7: Logprob(-0.5)}], "no log-probability"),  # too short
        ([None, {7: Logprob(-0.5)}, {4: Logprob(-1.0)}], "miss token 8"),
        ([None, {7: Logprob(-0.5)}, None], "miss token 8"),
    ],
)
def test_missing_numbers_are_errors(
    steps: list[dict[int, Logprob] | None] | None, reason: str
) -> None:
    with pytest.raises(PolicyError, match=reason):
        prompt_token_logprobs(steps, 2, [8])
