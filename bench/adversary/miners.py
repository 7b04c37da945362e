"""Dishonest miners: each builds the batch an attacker would submit for its own derived tasks.

Every strategy gets the same plan (tasks, group size, the spec's sampling) an
honest miner gets, so its reward can be compared with an honest miner's for
equal work. Each returns a ``worldgym.batch/2`` document; what the protocol
does with it is measured by ``bench/attacks.py``.

Strategies (``STRATEGIES``): a hand-written correct answer with the declared
model's true teacher-forced log-probabilities (short, and with long made-up
reasoning); the model's own reasoning with the final answer swapped for the
right one; best-of-16 (sample 16, keep the samples that make each group
disagree); greedy decoding declared as the spec's temperature; another
checkpoint's samples (with its own, or with the declared model's,
log-probabilities); another miner's traces re-headed as one's own; and
steering inside the tolerance (at every token, any choice within epsilon of
the Gumbel-max best, picked to make the group disagree).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from eth_utils import to_checksum_address

from worldgym.core.schemas import BATCH_SCHEMA, BatchDocument, BatchHeader, Message, Trace
from worldgym.gym import Environment, Task
from worldgym.miner.build import BatchPlan, build_batch, derive_tasks
from worldgym.policy.gumbel import SampleKey, gumbel_torch, key_tensor, nucleus_masks
from worldgym.policy.hf import TransformersPolicy
from worldgym.policy.rollout import Tolerances

__all__ = ["STRATEGIES", "MinerAttack", "honest"]


@dataclass(frozen=True)
class MinerAttack:
    """A named way to build a batch: ``build(plan, env, declared, other)``."""

    name: str
    build: Callable[[BatchPlan, Environment, TransformersPolicy, TransformersPolicy], BatchDocument]
    summary: str


def _header(plan: BatchPlan) -> BatchHeader:
    return BatchHeader(
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


def _trace(
    env: Environment,
    task_number: int,
    sample: int,
    prompt: list[dict[str, str]],
    tokens: list[int],
    *,
    model: TransformersPolicy,
) -> Trace:
    """A trace of ``tokens`` with the declared model's true teacher-forced log-probabilities."""
    text = model.decode(tokens)
    return Trace(
        task=task_number,
        sample=sample,
        prompt=[Message.model_validate(m) for m in prompt],
        completion=text,
        answer=env.extract(text),
        tokens=tokens,
        logprobs=[min(0.0, lp) for lp in model.score([(prompt, tokens)])[0]],
    )


def _answer(env: Environment, task: Task) -> str:
    tag = getattr(env.spec.extract, "tag", "answer")
    return f"<{tag}>{task.answer}</{tag}>"


def _written(
    plan: BatchPlan, env: Environment, model: TransformersPolicy, text: Callable[[Task], str]
) -> BatchDocument:
    traces = []
    for i, task in enumerate(derive_tasks(plan, env)):
        prompt = env.prompt(task)
        tokens = [*model.tokenizer.encode(text(task)), model.eos_token_id][
            : plan.sampling.max_new_tokens
        ]
        for j in range(plan.group_size):
            traces.append(_trace(env, i, j, prompt, tokens, model=model))
    return BatchDocument(header=_header(plan), traces=traces)


def honest(
    plan: BatchPlan, env: Environment, declared: TransformersPolicy, other: TransformersPolicy
) -> BatchDocument:
    """What an honest miner submits (the baseline)."""
    del other
    return build_batch(plan, env, declared)


def _forge_short(
    plan: BatchPlan, env: Environment, declared: TransformersPolicy, other: TransformersPolicy
) -> BatchDocument:
    del other
    return _written(plan, env, declared, lambda t: _answer(env, t))


def _forge_long(
    plan: BatchPlan, env: Environment, declared: TransformersPolicy, other: TransformersPolicy
) -> BatchDocument:
    del other
    return _written(plan, env, declared, lambda t: f"Adding up: {t.answer}. {_answer(env, t)}")


def _swap_answer(completion: str, right: str) -> str:
    swapped, count = re.subn(r"<answer>.*?</answer>", right, completion, count=1, flags=re.S)
    return swapped if count else completion + right


def _reasoning_then_forged_answer(
    plan: BatchPlan, env: Environment, declared: TransformersPolicy, other: TransformersPolicy
) -> BatchDocument:
    del other
    doc = build_batch(plan, env, declared)
    tasks = derive_tasks(plan, env)
    traces = []
    for t in doc.traces:
        prompt = env.prompt(tasks[t.task])
        text = _swap_answer(t.completion, _answer(env, tasks[t.task]))
        tokens = [*declared.tokenizer.encode(text), declared.eos_token_id]
        traces.append(
            _trace(
                env,
                t.task,
                t.sample,
                prompt,
                tokens[: plan.sampling.max_new_tokens],
                model=declared,
            )
        )
    return BatchDocument(header=doc.header, traces=traces)


def _best_of_16(
    plan: BatchPlan, env: Environment, declared: TransformersPolicy, other: TransformersPolicy
) -> BatchDocument:
    """Sample 16 per task and submit a group that disagrees, keeping honest samples where it can."""
    del other
    tasks = derive_tasks(plan, env)
    keys = [[SampleKey.derive(t.task_seed, j) for j in range(16)] for t in tasks]
    prompts = [env.prompt(t) for t in tasks]
    groups = declared.generate(prompts, n=16, sampling=plan.sampling, keys=keys)
    traces = []
    for i, (task, prompt, group) in enumerate(zip(tasks, prompts, groups, strict=True)):
        passed = [env.score(task, c.text).value >= 1.0 for c in group]
        chosen = list(range(plan.group_size))  # the honest samples 0..G-1
        own = [passed[j] for j in chosen]
        if all(own) or not any(own):  # swap one sample in for one of the other outcome
            spare = next((j for j in range(plan.group_size, 16) if passed[j] != own[0]), None)
            if spare is not None:
                chosen[-1] = spare
        for sample, j in enumerate(chosen):
            c = group[j]
            traces.append(
                Trace(
                    task=i, sample=sample, prompt=[Message.model_validate(m) for m in prompt],
                    completion=c.text, answer=env.extract(c.text), tokens=c.tokens,
                    logprobs=[min(0.0, lp) for lp in c.logprobs],
                )
            )  # fmt: skip
    return BatchDocument(header=_header(plan), traces=traces)


def _greedy(
    plan: BatchPlan, env: Environment, declared: TransformersPolicy, other: TransformersPolicy
) -> BatchDocument:
    del other
    greedy = plan.sampling.model_copy(update={"temperature": 0.0})
    doc = build_batch(BatchPlan(**{**plan.__dict__, "sampling": greedy}), env, declared)
    return BatchDocument(header=_header(plan), traces=doc.traces)


def _other_checkpoint(
    plan: BatchPlan, env: Environment, declared: TransformersPolicy, other: TransformersPolicy
) -> BatchDocument:
    del declared
    return build_batch(plan, env, other)


def _copied_logprobs(
    plan: BatchPlan, env: Environment, declared: TransformersPolicy, other: TransformersPolicy
) -> BatchDocument:
    doc = build_batch(plan, env, other)
    tasks = derive_tasks(plan, env)
    traces = [
        _trace(env, t.task, t.sample, env.prompt(tasks[t.task]), list(t.tokens), model=declared)
        for t in doc.traces
    ]
    return BatchDocument(header=doc.header, traces=traces)


def _steer_within_tolerance(
    plan: BatchPlan, env: Environment, declared: TransformersPolicy, other: TransformersPolicy
) -> BatchDocument:
    """At every token, any choice within the tolerance of the best, picked to make groups disagree.

    The group's first sample is drawn honestly; each later one steers toward
    the outcome the group lacks (a right answer where all failed, a wrong one
    where all passed), choosing among the tokens the validator cannot tell from
    the Gumbel-max choice.
    """
    del other
    import torch

    epsilon = Tolerances().logit_gap * 0.9
    sampling = plan.sampling
    tasks = derive_tasks(plan, env)
    traces = []
    for i, task in enumerate(tasks):
        prompt = env.prompt(task)
        right = _answer(env, task)
        outcomes: list[bool] = []
        for j in range(plan.group_size):
            want: bool | None = None
            if outcomes and all(outcomes):
                want = False
            elif outcomes and not any(outcomes):
                want = True
            key = SampleKey.derive(task.task_seed, j)
            head = declared.prompt_ids(prompt)
            tokens: list[int] = []
            for t in range(sampling.max_new_tokens):
                with torch.inference_mode():
                    logits = declared.model(torch.tensor([head + tokens])).logits[0, -1].float()
                noise = gumbel_torch(key_tensor([key], "cpu"), torch.tensor([t]), logits.shape[-1])[
                    0
                ]
                scaled = logits / sampling.temperature if sampling.temperature else logits
                scores = scaled + (noise if sampling.temperature else 0.0)
                if sampling.top_p < 1.0:
                    keep, _ = nucleus_masks(scaled.softmax(-1).unsqueeze(0), sampling.top_p)
                    scores = scores.masked_fill(~keep[0], float("-inf"))
                best = float(scores.max())
                window = (best - scores) * max(sampling.temperature, 1e-9) <= epsilon
                candidates = [int(v) for v in window.nonzero().flatten()]
                choice = int(scores.argmax())
                text = declared.decode(tokens)
                if want is not None and len(candidates) > 1:
                    choice = _steer(declared, text, right, candidates, choice, want=want)
                tokens.append(choice)
                if choice == declared.eos_token_id:
                    break
            trace = _trace(env, i, j, prompt, tokens, model=declared)
            traces.append(trace)
            outcomes.append(env.score(task, trace.completion).value >= 1.0)
    return BatchDocument(header=_header(plan), traces=traces)


def _steer(
    model: TransformersPolicy,
    text: str,
    right: str,
    candidates: list[int],
    default: int,
    *,
    want: bool,
) -> int:
    """Among ``candidates``, the token that writes the right answer (``want``) or breaks it."""
    done = max((n for n in range(len(right), 0, -1) if text.endswith(right[:n])), default=0)
    if done == len(right):
        return default
    wanted = right[done]
    chars = {v: model.decode([v]) for v in candidates}
    if want:
        return next((v for v, c in chars.items() if c == wanted), default)
    if done > 0 and chars.get(default) == wanted:
        return next((v for v, c in chars.items() if c != wanted), default)
    return default


STRATEGIES: tuple[MinerAttack, ...] = (
    MinerAttack(
        "forge: short answer", _forge_short, "the right answer written by hand, true logprobs"
    ),
    MinerAttack(
        "forge: long text", _forge_long, "made-up reasoning and the right answer, true logprobs"
    ),
    MinerAttack(
        "forge: model reasoning + answer",
        _reasoning_then_forged_answer,
        "the model's own reasoning, the final answer swapped for the right one",
    ),
    MinerAttack("best-of-16", _best_of_16, "16 samples per task, submit a group that disagrees"),
    MinerAttack(
        "greedy declared as T", _greedy, "greedy decoding, header says the spec's temperature"
    ),
    MinerAttack(
        "another checkpoint", _other_checkpoint, "another model's samples, its own logprobs"
    ),
    MinerAttack(
        "copied logprobs",
        _copied_logprobs,
        "another model's samples, the declared model's logprobs",
    ),
    MinerAttack(
        "steering within tolerance",
        _steer_within_tolerance,
        "any token within epsilon of the best, chosen to make groups disagree",
    ),
)
