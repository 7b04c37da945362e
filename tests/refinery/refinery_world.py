"""A devnet with finalized epochs of hand-made batches, for the refinery's on-chain tests.

The environment is ``sums`` in pairs (the example's generator, prompt, answer
tags and reasoning-gym verifier, groups of two): a real environment, since the
refinery, like every validator, refuses one whose verifier ignores the
reference. The base model is the tiny model warmed up on it (``sums_model_dir``,
~10% pass@1 within 20 tokens), which makes the gate's two outcomes easy to
produce with real training: batches of right answers keep or improve it,
batches whose right answers come after 40 filler letters teach it to run out
of tokens first (worse).

Batches are ``worldgym.batch/2`` groups of :data:`GROUP` samples per task;
each sample's completion is chosen by the submission (so a group can pass and
fail), written as the base model's token ids plus the end token, with the base
model's own log-probabilities of them (what GRPO trains on).

Importing this module needs the ml extra (torch).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from worldgym.chain.protocol_math import (
    commitment,
    default_env_weights,
    make_lane,
    pack_env_weights,
    pack_lanes,
)
from worldgym.core.schemas import (
    BATCH_SCHEMA,
    BatchDocument,
    BatchHeader,
    Message,
    ModelRef,
    Sampling,
    Trace,
    encode_batch,
    task_index,
)
from worldgym.deploy.devchain import DevChain, Window
from worldgym.gym import Environment, Task, load_environment
from worldgym.gym.environment import load_spec
from worldgym.gym.registry import pin_spec
from worldgym.policy.checkpoint import ModelHandle, register_checkpoint
from worldgym.policy.hf import TransformersPolicy
from worldgym.refinery.config import EvalConfig, TrainConfig
from worldgym.refinery.selection import SelectionConfig
from worldgym.refinery.service import RefineConfig
from worldgym.storage import ContentStore, StoreSettings, cid_to_bytes, open_store

__all__ = [
    "DIGITS_SPEC",
    "GROUP",
    "Chain",
    "Submission",
    "buried",
    "fast_config",
    "make_chain",
    "play_epoch",
    "right",
    "right_or_not",
    "wrong",
]

DIGITS_SPEC = {  # the sums example in groups of two (a real environment: the audit passes it)
    "schema": "worldgym.env/1",
    "name": "sums-pairs",
    "description": "Add two one-digit numbers, two samples per task (a test environment).",
    "generator": {
        "kind": "reasoning_gym",
        "dataset": "basic_arithmetic",
        "reasoning_gym_version": "0.1.25",
        "config": {
            "min_terms": 2,
            "max_terms": 2,
            "min_digits": 1,
            "max_digits": 1,
            "operators": ["+"],
            "allow_parentheses": False,
            "allow_negation": False,
        },
    },
    "prompt": {"system": "Answer in <answer></answer> tags.", "user": "{question}"},
    "extract": {"kind": "tag", "tag": "answer"},
    "verifier": {"kind": "reasoning_gym"},
    "max_tokens": 64,
    "group_size": 2,
}
GROUP = 2

_SAMPLING = Sampling(temperature=1.0, top_p=1.0, max_new_tokens=64)


def right(task: Task, sample: int = 0) -> str:
    """A passing completion: the reference answer in its tags, nothing else."""
    return f"<answer>{task.answer}</answer>"


def buried(task: Task, sample: int = 0) -> str:
    """A passing completion whose answer comes after 40 filler letters."""
    return "x" * 40 + right(task)


def wrong(task: Task, sample: int = 0) -> str:
    """A failing completion."""
    return "<answer>none</answer>"


def right_or_not(task: Task, sample: int) -> str:
    """Sample 0 passes, sample 1 fails: every group is informative."""
    return right(task) if sample == 0 else wrong(task)


@dataclass
class Chain:
    """A devnet with the sums-pairs environment, a registered base model and staked validators."""

    chain: DevChain
    store: ContentStore
    env: Environment
    env_id: int
    base: ModelHandle
    miners: list[str]
    validators: list[str]
    root: Path
    _policy: TransformersPolicy | None = None

    def rollout(self, prompt: list[dict[str, str]], text: str) -> tuple[list[int], list[float]]:
        """``text`` as the base model's tokens (plus the end token) and their log-probabilities."""
        if self._policy is None:
            self._policy = TransformersPolicy(self.base.path)
        policy = self._policy
        tokens = [*policy.tokenizer.encode(text, add_special_tokens=False), policy.eos_token_id]
        return tokens, policy.score([(prompt, tokens)])[0]


def make_chain(chain: DevChain, model_dir: Path, root: Path) -> Chain:
    """Register the base model and the sums-pairs environment; stake two validators."""
    store = open_store(StoreSettings(path=root / "store"))
    base = register_checkpoint(chain.as_account(chain.deployer), store, model_dir)
    spec_path = root / "sums-pairs.yaml"
    spec_path.write_text(yaml.safe_dump(DIGITS_SPEC))
    spec = load_spec(spec_path)
    _, spec_cid = pin_spec(store, spec)
    env_id = chain.register_environment_as(chain.accounts[1], spec_cid)
    validators = chain.accounts[5:7]
    for v in validators:
        chain.stake_as(v, chain.deployment.params.min_stake)
    for miner in chain.accounts[2:5]:
        chain.bond_miner_as(miner)
    return Chain(
        chain, store, load_environment(spec), env_id, base, chain.accounts[2:5], validators, root
    )


@dataclass(frozen=True)
class Submission:
    """One hand-made batch: who, how many tasks, how each sample is answered, the consensus."""

    miner: str
    tasks: int
    answer: Callable[[Task, int], str]
    consensus_bps: int


def _document(c: Chain, epoch: int, seed: bytes, s: Submission, sequence: int) -> BatchDocument:
    traces = []
    for i in range(s.tasks):
        task = c.env.task(seed, c.env_id, 1, s.miner, task_index(sequence, i))
        prompt = c.env.prompt(task)
        for j in range(GROUP):
            text = s.answer(task, j)
            tokens, logprobs = c.rollout(prompt, text)
            traces.append(
                Trace(
                    task=i, sample=j, prompt=[Message.model_validate(m) for m in prompt],
                    completion=text, answer=c.env.extract(text), tokens=tokens,
                    logprobs=logprobs,
                )
            )  # fmt: skip
    header = BatchHeader(
        schema=BATCH_SCHEMA, chain_id=c.chain.deployment.chain_id,
        contract=c.chain.gym.address, epoch=epoch, miner=s.miner, env_id=c.env_id, env_version=1,
        sequence=sequence, model=ModelRef(id=c.base.id, digest=c.base.cid), sampling=_SAMPLING,
        task_count=s.tasks, group_size=GROUP,
    )  # fmt: skip
    return BatchDocument(header=header, traces=traces)


def play_epoch(c: Chain, submissions: Sequence[Submission], *, unpinned: int | None = None) -> int:
    """Submit ``submissions`` in the current epoch, score them as given, finalize; return the epoch.

    ``unpinned``: the position of one submission whose document is never stored.
    """
    chain = c.chain
    epoch = chain.current_epoch()
    seed = chain.as_account(chain.deployer).poke_seed(epoch)
    sequences: dict[str, int] = {}
    for position, s in enumerate(submissions):
        sequence = sequences.get(s.miner, 0)
        sequences[s.miner] = sequence + 1
        data = encode_batch(_document(c, epoch, seed, s, sequence))
        cid = c.store.put_bytes(data) if position != unpinned else _unstored_cid(data)
        chain.send(
            s.miner,
            chain.gym,
            "submitBatch",
            c.env_id,
            1,
            cid_to_bytes(cid),
            s.tasks * GROUP,
            c.base.id,
        )
    lanes = pack_lanes([make_lane(s.consensus_bps, 0) for s in submissions])
    weights = pack_env_weights(default_env_weights([c.env_id]))
    salts = {v: os.urandom(32) for v in c.validators}
    chain.mine_to(chain.window_opens(epoch, Window.COMMIT))
    for v in c.validators:
        digest = commitment(epoch, v, lanes, weights, salts[v])
        chain.send(v, chain.gym, "commit", epoch, digest)
    chain.mine_to(chain.window_opens(epoch, Window.REVEAL))
    for v in c.validators:
        chain.send(v, chain.gym, "reveal", epoch, lanes, weights, salts[v])
    chain.mine_to(chain.window_opens(epoch, Window.FINALIZE))
    chain.finalize_all(epoch, chunk=64)
    return epoch


def _unstored_cid(data: bytes) -> str:
    from worldgym.storage import compute_cid

    return compute_cid(data)


def fast_config(**overrides: object) -> RefineConfig:
    """Settings that train and evaluate the tiny model in seconds."""
    values: dict[str, object] = {
        "selection": SelectionConfig(max_traces=64, max_per_miner=32),
        "train": TrainConfig(learning_rate=1e-2, epochs=3, batch_size=16, max_length=128),
        "eval": EvalConfig(tasks=24, samples_per_task=4, ks=(1, 4), max_new_tokens=20),
    }
    values.update(overrides)
    return RefineConfig.model_validate(values)
