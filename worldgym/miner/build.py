"""From an epoch's seed to a ``worldgym.batch/2`` document: derive, prompt, sample, extract.

Task ``i`` of the batch with on-chain sequence ``s`` is derived from index
``s << 32 | i`` (:func:`worldgym.core.schemas.task_index`), so the tasks are fixed by
the seed, the environment, the miner's address and the sequence the contract
will assign. Sample ``j`` of a task is the Gumbel-max sample with the key
derived from the task seed and ``j`` (:class:`worldgym.policy.gumbel.SampleKey`), and
the sampling settings and group size are the environment spec's
(:func:`spec_sampling`): nothing here chooses anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eth_utils import to_checksum_address

from worldgym.core.schemas import (
    BATCH_SCHEMA,
    BatchDocument,
    BatchHeader,
    Message,
    ModelRef,
    Sampling,
    Trace,
    task_index,
)
from worldgym.gym import Environment, Task
from worldgym.gym.spec import EnvSpec
from worldgym.policy import Completion, Policy
from worldgym.policy.gumbel import SampleKey

__all__ = ["BatchPlan", "build_batch", "derive_tasks", "spec_sampling"]


@dataclass(frozen=True)
class BatchPlan:
    """Everything that fixes one batch before a single token is sampled."""

    chain_id: int
    contract: str
    epoch: int
    seed: bytes
    miner: str
    env_id: int
    env_version: int
    sequence: int
    task_count: int
    group_size: int
    model: ModelRef
    sampling: Sampling


def spec_sampling(spec: EnvSpec) -> Sampling:
    """The sampling settings every batch of an environment declares: the spec's own."""
    return Sampling(
        temperature=spec.sampling.temperature,
        top_p=spec.sampling.top_p,
        max_new_tokens=spec.max_tokens,
    )


def derive_tasks(plan: BatchPlan, env: Environment) -> list[Task]:
    """The batch's tasks, ``0 .. task_count - 1``."""
    return [
        env.task(plan.seed, plan.env_id, plan.env_version, plan.miner, task_index(plan.sequence, i))
        for i in range(plan.task_count)
    ]


def _trace(env: Environment, task: int, sample: int, prompt: list[Message], c: Completion) -> Trace:
    return Trace(
        task=task,
        sample=sample,
        prompt=prompt,
        completion=c.text,
        answer=env.extract(c.text),
        tokens=c.tokens,
        logprobs=[min(0.0, lp) for lp in c.logprobs],
    )


def build_batch(
    plan: BatchPlan,
    env: Environment,
    policy: Policy,
    *,
    chunk: int = 8,
    on_progress: Callable[[int, int], None] | None = None,
) -> BatchDocument:
    """Sample ``group_size`` completions for each derived task and assemble the document.

    ``on_progress(tasks_done, tokens_generated)`` is called after each chunk
    of ``chunk`` tasks (for progress bars).
    """
    tasks = derive_tasks(plan, env)
    traces: list[Trace] = []
    for start in range(0, len(tasks), chunk):
        part = tasks[start : start + chunk]
        prompts = [env.prompt(t) for t in part]
        keys = [[SampleKey.derive(t.task_seed, j) for j in range(plan.group_size)] for t in part]
        groups = policy.generate(prompts, n=plan.group_size, sampling=plan.sampling, keys=keys)
        tokens = 0
        for offset, (prompt, group) in enumerate(zip(prompts, groups, strict=True)):
            messages = [Message(role=m["role"], content=m["content"]) for m in prompt]  # type: ignore[arg-type]
            for sample, completion in enumerate(group):
                traces.append(_trace(env, start + offset, sample, messages, completion))
                tokens += len(completion.tokens)
        if on_progress is not None:
            on_progress(len(part), tokens)
    header = BatchHeader(
        schema=BATCH_SCHEMA,
        chain_id=plan.chain_id,
        contract=to_checksum_address(plan.contract),
        epoch=plan.epoch,
        miner=to_checksum_address(plan.miner),
        env_id=plan.env_id,
        env_version=plan.env_version,
        sequence=plan.sequence,
        model=plan.model,
        sampling=plan.sampling,
        task_count=plan.task_count,
        group_size=plan.group_size,
    )
    return BatchDocument(header=header, traces=traces)
