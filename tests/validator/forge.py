"""Hand-made batches for validator tests: honest-looking documents without a model.

:func:`solver_batch` writes each derived task's reference answer as the
completion (what a miner copying a solver would send), tokenizes it with the
declared model's tokenizer and pastes in that model's own log-probabilities,
so every check but the proof of rollout's likelihood test passes.
"""

from __future__ import annotations

from eth_utils import to_checksum_address

from client.contracts import BatchRecord
from client.schemas import (
    BatchDocument,
    BatchHeader,
    Message,
    ModelRef,
    Sampling,
    Trace,
    task_index,
)
from gym import Environment
from policy.hf import TransformersPolicy

__all__ = ["SAMPLING", "solver_batch"]

SAMPLING = Sampling(temperature=1.0, top_p=1.0, max_new_tokens=64, seed=1)


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
        traces.append(
            Trace(
                task=i,
                sample=0,
                prompt=[Message.model_validate(m) for m in prompt],
                completion=policy.decode(tokens),
                answer=env.extract(text),
                tokens=tokens,
                logprobs=[min(0.0, x) for x in policy.score(prompt, tokens)],
            )
        )
    header = BatchHeader(
        schema="worldgym.batch/1",
        chain_id=chain_id,
        contract=to_checksum_address(contract),
        epoch=record.epoch,
        miner=record.miner,
        env_id=record.env_id,
        env_version=record.env_version,
        sequence=record.sequence,
        model=ModelRef(id=record.model_id, digest=digest),
        sampling=SAMPLING,
        task_count=task_count,
        group_size=1,
    )
    return BatchDocument(header=header, traces=traces)
