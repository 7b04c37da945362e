"""No input crashes the validator: 10,000+ generated batches and a corpus of hand-made bad ones.

Everything here is offline: a real batch is mined by the tiny model for a
fixed seed, then mutated. The context is what a validator would know from the
chain (record, seed, registered checkpoint), built by hand.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from forge import small_environment, solver_batch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worldgym.chain.contracts import BatchRecord
from worldgym.core.schemas import ModelRef, encode_batch
from worldgym.gym import Environment
from worldgym.miner.build import BatchPlan, build_batch, spec_sampling
from worldgym.policy.hf import TransformersPolicy
from worldgym.policy.rollout import RolloutCheck, TraceToCheck, check_rollouts
from worldgym.storage import LocalStore, StoreSettings, cid_to_bytes, compute_cid, open_store
from worldgym.validator.checks import BatchContext, BatchVerdict, RolloutRequest, score_batch

pytestmark = pytest.mark.ml

MINER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
VALIDATOR = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
SEED = bytes(range(32))
DIGEST = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


class Fixture:
    """A valid batch and the context that scores it, plus helpers to mutate it."""

    def __init__(self, env: Environment, policy: TransformersPolicy) -> None:
        self.env, self.policy = env, policy
        plan = BatchPlan(
            chain_id=31337, contract=CONTRACT, epoch=3, seed=SEED, miner=MINER, env_id=1,
            env_version=1, sequence=0, task_count=3, group_size=2,
            model=ModelRef(id=1, digest=DIGEST), sampling=spec_sampling(env.spec),
        )  # fmt: skip
        self.doc = build_batch(plan, env, policy)
        self.data = encode_batch(self.doc)
        self.raw: dict[str, Any] = json.loads(self.data)
        self.record = BatchRecord(
            3,
            0,
            MINER,
            1,
            1,
            0,
            self.doc.trace_count,
            1,
            cid_to_bytes(compute_cid(self.data)),
            0,
            "",
        )

    def context(
        self, prove: bool = True, validator: str = VALIDATOR, **record: Any
    ) -> BatchContext:
        fields = {**self.record.__dict__, **record}
        return BatchContext(
            record=BatchRecord(**fields), validator=validator, chain_id=31337, contract=CONTRACT,
            seed=SEED, checkpoint_cid=DIGEST, environment=lambda _e, _v: self.env,
            rollout=self.rollout if prove else None, sample_seed=b"\x07" * 32,
        )  # fmt: skip

    def rollout(self, doc: Any, requests: Sequence[RolloutRequest]) -> list[RolloutCheck]:
        traces = []
        for r in requests:
            t = doc.traces[r.number]
            prompt = [m.model_dump() for m in t.prompt]
            traces.append(
                TraceToCheck(prompt, t.tokens, t.logprobs, t.completion, r.key, r.canaries)
            )
        return check_rollouts(self.policy, traces, doc.header.sampling)

    def score(self, data: bytes | None, **kw: Any) -> BatchVerdict:
        return score_batch(data, self.context(**kw))

    def edited(self, edit: Callable[[dict[str, Any]], None]) -> bytes:
        raw = copy.deepcopy(self.raw)
        edit(raw)
        return json.dumps(raw).encode()


@pytest.fixture(scope="module")
def fx(policy: TransformersPolicy) -> Fixture:
    return Fixture(small_environment(max_tokens=40), policy)


def _sane(verdict: BatchVerdict) -> None:
    assert 0 <= verdict.score <= 10_000
    assert 0 <= verdict.digest < 128
    assert verdict.reason
    if verdict.rejected:
        prefix = "fraud: " if verdict.fraud else "rejected: "
        assert verdict.reason.startswith(prefix)
        assert len(verdict.reason) > len(prefix) + 5
        assert verdict.score == 0


def test_the_valid_batch_is_scored_with_rollouts_checked(fx: Fixture) -> None:
    verdict = fx.score(fx.data)
    assert not verdict.rejected
    assert not verdict.fraud
    assert len(verdict.traces) == 6  # a small batch is checked whole
    assert all(t.rollout is not None and t.rollout["ok"] for t in verdict.traces)


def test_validators_that_did_the_work_agree_on_the_digest(fx: Fixture) -> None:
    """The digest is the same for every validator, and skipping the model changes it."""
    first = score_batch(fx.data, fx.context(validator=VALIDATOR))
    second = score_batch(fx.data, fx.context(validator=MINER))
    assert (first.score, first.digest) == (second.score, second.digest)
    lazy = score_batch(fx.data, fx.context(prove=False))
    assert lazy.score == first.score
    assert lazy.digest != first.digest  # the canaries need the forward pass


# ─── generated cases: 10,500 in all ──────────────────────────────────────────

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


@settings(FUZZ, max_examples=3000)
@given(st.binary(max_size=3000))
def test_random_bytes_are_rejected(fx: Fixture, data: bytes) -> None:
    verdict = fx.score(data)
    _sane(verdict)
    assert verdict.rejected


@settings(FUZZ, max_examples=1500)
@given(st.data())
def test_truncations_are_rejected(fx: Fixture, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(fx.data) - 1))
    verdict = fx.score(fx.data[:cut])
    _sane(verdict)
    assert verdict.rejected


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            out.extend(_paths(v, (*prefix, i)))
    return out


@settings(FUZZ, max_examples=3500)
@given(st.data())
def test_any_field_replaced_by_any_json_never_crashes(fx: Fixture, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_paths(fx.raw)))
    value = data.draw(_json)

    def edit(raw: dict[str, Any]) -> None:
        node = raw
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    _sane(fx.score(fx.edited(edit)))


@settings(FUZZ, max_examples=2500)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=8))
def test_byte_flips_never_crash(fx: Fixture, flips: list[tuple[int, int]]) -> None:
    data = bytearray(fx.data)
    for position, value in flips:
        data[position % len(data)] = value
    verdict = fx.score(bytes(data))
    _sane(verdict)
    if bytes(data) != fx.data:
        assert verdict.rejected or verdict.traces


# ─── the corpus: each bad batch rejected for its own reason ──────────────────


def _swap_prompt(raw: dict[str, Any]) -> None:
    raw["traces"][0]["prompt"] = raw["traces"][2]["prompt"]  # task 1's prompt under task 0


def _edit_tokens(raw: dict[str, Any]) -> None:
    for trace in raw["traces"]:
        trace["tokens"][0] = (trace["tokens"][0] + 7) % 256


def _duplicate(raw: dict[str, Any]) -> None:
    raw["traces"][1] = copy.deepcopy(raw["traces"][0])


CORPUS: list[tuple[str, Callable[[Fixture], bytes | None], dict[str, Any], str]] = [
    ("truncated JSON", lambda f: f.data[: len(f.data) // 2], {}, "not valid JSON"),
    ("not JSON at all", lambda f: b"\xff\xfe\x00garbage", {}, "not UTF-8"),
    ("empty", lambda f: b"", {}, "not valid JSON"),
    (
        "wrong type",
        lambda f: f.edited(lambda r: r["header"].update(task_count="3")),
        {},
        "task_count",
    ),
    (
        "huge string",
        lambda f: f.edited(lambda r: r["traces"][0].update(completion="x" * 300_000)),
        {},
        "completion",
    ),
    ("NaN", lambda f: f.data.replace(b'"logprobs":[', b'"logprobs":[NaN,', 1), {}, "NaN"),
    ("nesting bomb", lambda f: b"[" * 100_000, {}, "nested deeper"),
    ("duplicate indices", lambda f: f.edited(_duplicate), {}, "repeats task"),
    ("count mismatch", lambda f: f.edited(lambda r: r["traces"].pop()), {}, "traces"),
    ("wrong miner", lambda f: f.data, {"miner": VALIDATOR}, "header miner"),
    ("wrong epoch", lambda f: f.data, {"epoch": 4}, "header epoch"),
    ("wrong sequence", lambda f: f.data, {"sequence": 1}, "header sequence"),
    ("wrong trace count", lambda f: f.data, {"trace_count": 5}, "header trace count"),
    (
        "another model",
        lambda f: f.edited(lambda r: r["header"]["model"].update(digest="bafkqaaa")),
        {},
        "registered checkpoint",
    ),
    ("prompt swapped", lambda f: f.edited(_swap_prompt), {}, "not the derived task"),
    (
        "answer field forged",
        lambda f: f.edited(lambda r: r["traces"][0].update(answer="42")),
        {},
        "does not extract",
    ),
    ("tokens edited", lambda f: f.edited(_edit_tokens), {}, "proof of rollout"),
    ("fetch failed", lambda f: None, {}, "could not be fetched"),
    (
        "temperature not the spec's",
        lambda f: f.edited(lambda r: r["header"]["sampling"].update(temperature=0.5)),
        {},
        "header temperature",
    ),
    (
        "budget not the spec's",
        lambda f: f.edited(lambda r: r["header"]["sampling"].update(max_new_tokens=64)),
        {},
        "header token budget",
    ),
]
# What no honest miner can send: revealed as FRAUD, which slashes the miner's bond.
FRAUD = {
    "wrong miner", "wrong epoch", "wrong sequence", "wrong trace count", "another model",
    "prompt swapped", "answer field forged", "tokens edited", "temperature not the spec's",
    "budget not the spec's",
}  # fmt: skip


@pytest.mark.parametrize(("name", "make", "record", "reason"), CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_is_rejected_with_its_reason(
    fx: Fixture,
    name: str,
    make: Callable[[Fixture], bytes | None],
    record: dict[str, Any],
    reason: str,
) -> None:
    verdict = fx.score(make(fx), **record)
    assert verdict.rejected, name
    assert reason in verdict.reason, verdict.reason
    assert verdict.fraud == (name in FRAUD)
    _sane(verdict)


def test_solver_answers_without_a_model_fail_the_rollout(fx: Fixture) -> None:
    doc = solver_batch(
        fx.env, fx.policy, record=fx.record, chain_id=31337, contract=CONTRACT, seed=SEED,
        digest=DIGEST, task_count=3,
    )  # fmt: skip
    data = encode_batch(doc)
    record = {"trace_count": doc.trace_count, "cid": cid_to_bytes(compute_cid(data))}
    without_proof = fx.score(data, prove=False, **record)
    assert all(t.score == 1.0 for t in without_proof.traces)  # every answer is right...
    assert without_proof.score == 0  # ...so no group disagrees: no learning signal...
    verdict = fx.score(data, **record)
    assert verdict.fraud  # ...and no model wrote them
    assert "Gumbel-max" in verdict.reason


def test_bytes_that_do_not_match_the_cid_are_rejected(fx: Fixture, tmp_path: Any) -> None:
    from worldgym.validator.engine import BatchScorer

    store = open_store(StoreSettings(path=tmp_path / "store"))
    assert isinstance(store, LocalStore)
    cid = store.put_bytes(fx.data)
    block = store.block_path(cid)
    block.write_bytes(block.read_bytes().replace(b'"epoch":3', b'"epoch":4'))
    scorer = BatchScorer(None, store, tmp_path, VALIDATOR)  # type: ignore[arg-type]
    data, reason = scorer.fetch(fx.record)
    assert data is None
    verdict = score_batch(data, fx.context(), reason)
    assert verdict.rejected
    assert "do not match the CID" in verdict.reason


def test_a_forged_header_pays_only_validators_that_ran_the_model(fx: Fixture) -> None:
    """Fraud an honest validator spots without the model still carries the proof in its digest."""
    proven = fx.score(fx.data, miner=VALIDATOR)
    lazy = fx.score(fx.data, prove=False, miner=VALIDATOR)
    assert proven.fraud
    assert lazy.fraud
    assert "header miner" in proven.reason
    assert proven.digest != lazy.digest
    again = score_batch(fx.data, fx.context(validator=MINER, miner=VALIDATOR))
    assert again.digest == proven.digest  # every validator that did the work agrees
