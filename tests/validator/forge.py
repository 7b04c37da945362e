"""Hand-made batches for validator tests: honest-looking documents without a model.

:func:`solver_batch` writes each derived task's reference answer as the
completion of every sample (what a miner copying a solver would send),
tokenizes it with the declared model's tokenizer and pastes in that model's
own log-probabilities, so every check but the proof of rollout passes.
:func:`small_environment` is an example environment with a budget and group
size small enough for the tiny model in tests.
"""

from __future__ import annotations

from eth_utils import to_checksum_address

from worldgym.chain.contracts import BatchRecord
from worldgym.core.schemas import (
    BATCH_SCHEMA,
    BatchDocument,
    BatchHeader,
    Message,
    ModelRef,
    Trace,
    task_index,
)
from worldgym.gym import Environment, load_environment
from worldgym.gym.environment import load_spec
from worldgym.gym.environments import example_path
from worldgym.miner.build import spec_sampling
from worldgym.policy.hf import TransformersPolicy

__all__ = ["small_environment", "solver_batch"]


def small_environment(
    name: str = "arithmetic", max_tokens: int = 12, group: int = 2
) -> Environment:
    """The example environment ``name`` with a small token budget and group size."""
    spec = load_spec(example_path(name))
    return load_environment(spec.model_copy(update={"max_tokens": max_tokens, "group_size": group}))


def solver_batch(
    env: Environment,
    policy: TransformersPolicy,
    *,
    record: BatchRecord,
    chain_id: int,
    contract: str,
    seed: bytes,
    digest: str,
    task_count: int,
) -> BatchDocument:
    """A batch whose completions are the reference answers, with honest-looking numbers."""
    traces = []
    for i in range(task_count):
        task = env.task(
            seed, record.env_id, record.env_version, record.miner, task_index(record.sequence, i)
        )
        prompt = env.prompt(task)
        text = f"<answer>{task.answer}</answer>"
        tokens = [*policy.tokenizer.encode(text), policy.eos_token_id]
        logprobs = [min(0.0, x) for x in policy.score([(prompt, tokens)])[0]]
        for sample in range(env.spec.group_size):
            traces.append(
                Trace(
                    task=i,
                    sample=sample,
                    prompt=[Message.model_validate(m) for m in prompt],
                    completion=policy.decode(tokens),
                    answer=env.extract(text),
                    tokens=tokens,
                    logprobs=logprobs,
                )
            )
    header = BatchHeader(
        schema=BATCH_SCHEMA,
        chain_id=chain_id,
        contract=to_checksum_address(contract),
        epoch=record.epoch,
        miner=record.miner,
        env_id=record.env_id,
        env_version=record.env_version,
        sequence=record.sequence,
        model=ModelRef(id=record.model_id, digest=digest),
        sampling=spec_sampling(env.spec),
        task_count=task_count,
        group_size=env.spec.group_size,
    )
    return BatchDocument(header=header, traces=traces)
