"""GRPO on recorded rollouts: a checkpoint learns from the contrast inside the miners' groups.

Each row (:func:`worldgym.refinery.dataset.group_rows`) is one sample of a group: the
chat prompt, the sampled token ids, the score, the sampling settings and the
behaviour model. :func:`train_grpo`:

1. turns rows into :class:`Rollout` s: the prompt's token ids exactly as the
   sampler built them (the chat template with the generation prompt), the
   sampled tokens as they are (never re-tokenised text), and the advantage
   within the group (:func:`worldgym.refinery.grpo.group_advantages`);
2. fixes the **behaviour** log-probabilities ``log mu``: at temperature 1 and
   top-p 1 the recorded ones are exactly the sampling probabilities; otherwise
   the sampler drew from ``softmax(logits / T)`` over the nucleus, which the
   recorded raw values do not give, so they are recomputed with the model
   that sampled (``behaviour_models`` maps its checkpoint CID to a directory;
   the parent is used without loading it twice) and the recorded values are
   compared with the recomputation (``behaviour_mismatches`` counts traces
   off by more than :data:`BEHAVIOUR_TOLERANCE` nats on average);
3. with ``kl_beta > 0``, the parent's log-probabilities, computed with the
   model before its first update (no second copy of it);
4. trains with AdamW, the configured schedule, gradient clipping at 1.0 and
   gradient accumulation, on mini-batches of one sampling setting, the loss of
   :func:`worldgym.refinery.grpo.grpo_loss` normalised by the optimizer step's tokens;
5. saves a full model (a LoRA adapter merged) in safetensors.

Prompts are left-padded and completions right-padded, so the logits of the
completion positions of a batch are one slice (as in TRL's trainers).
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worldgym.core.prompts import chat_prompt_ids
from worldgym.refinery.config import GrpoConfig, TrainConfig
from worldgym.refinery.errors import TrainConfigError, TrainingError
from worldgym.refinery.grpo import group_advantages, grpo_loss, sampling_logprobs
from worldgym.refinery.train import (
    LogCallback,
    TrainResult,
    check_loss,
    import_ml,
    lora_config,
    save_model,
)

__all__ = ["BEHAVIOUR_TOLERANCE", "Rollout", "build_rollouts", "train_grpo"]

BEHAVIOUR_TOLERANCE = 0.05
"""Mean absolute difference (nats) between recorded and recomputed raw log-probabilities
above which a trace counts as a behaviour mismatch (the validators' own tolerance)."""

_MAX_GRAD_NORM = 1.0


@dataclass(frozen=True)
class Rollout:
    """One sampled completion to learn from.

    ``logprobs`` are the recorded raw log-probabilities (``log_softmax`` at
    T = 1 of the sampling model); ``model`` is that model's checkpoint CID.
    """

    prompt_ids: tuple[int, ...]
    tokens: tuple[int, ...]
    logprobs: tuple[float, ...]
    advantage: float
    temperature: float
    top_p: float
    model: str

    @property
    def setting(self) -> tuple[float, float]:
        """(temperature, top_p): mini-batches never mix two settings."""
        return (self.temperature, self.top_p)

    @property
    def exact_behaviour(self) -> bool:
        """Whether the recorded log-probabilities are the sampling probabilities (T = 1, p = 1)."""
        return self.temperature == 1.0 and self.top_p >= 1.0


def _row_fields(number: int, row: Mapping[str, Any]) -> tuple[str, float, list[Any], list[Any]]:
    group, score = row.get("group"), row.get("score")
    tokens, logprobs = row.get("tokens"), row.get("logprobs")
    sampling, model = row.get("sampling"), row.get("model")
    if not (
        isinstance(group, str)
        and isinstance(score, int | float)
        and isinstance(tokens, list)
        and tokens
        and isinstance(logprobs, list)
        and len(logprobs) == len(tokens)
        and isinstance(sampling, Mapping)
        and isinstance(model, Mapping)
        and isinstance(row.get("messages"), list)
    ):
        raise TrainingError(
            f"row {number} is not a GRPO row: it needs group, score, messages, tokens, "
            "logprobs of the same length, sampling and model (worldgym.refinery.dataset.group_rows)"
        )
    return group, float(score), tokens, logprobs


def build_rollouts(
    rows: Sequence[Mapping[str, Any]], tokenizer: Any, grpo: GrpoConfig, max_length: int
) -> tuple[list[Rollout], int]:
    """The rollouts of ``rows`` with their group advantages; and how many tokens were cut.

    A completion longer than ``max_length`` minus its prompt is cut at the end
    (its last tokens are not trained on). Rows of one group share one
    ``group`` id; advantages are computed over every row of the group.

    Raises:
        TrainingError: a row is malformed, or a prompt alone exceeds ``max_length``.
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for number, row in enumerate(rows):
        group, *_ = _row_fields(number, row)
        groups[group].append(number)
    advantages: dict[int, float] = {}
    for members in groups.values():
        scores = [float(rows[i]["score"]) for i in members]
        values = group_advantages(scores, scale=grpo.scale_rewards)
        advantages.update(zip(members, values, strict=True))
    rollouts, cut = [], 0
    for number, row in enumerate(rows):
        _, _, tokens, logprobs = _row_fields(number, row)
        prompt = tuple(chat_prompt_ids(tokenizer, row["messages"][:-1]))
        room = max_length - len(prompt)
        if room < 1:
            raise TrainingError(
                f"row {number}: the prompt alone is {len(prompt)} tokens; raise max_length "
                f"(now {max_length})"
            )
        cut += max(0, len(tokens) - room)
        rollouts.append(
            Rollout(
                prompt_ids=prompt,
                tokens=tuple(int(t) for t in tokens[:room]),
                logprobs=tuple(float(x) for x in logprobs[:room]),
                advantage=advantages[number],
                temperature=float(row["sampling"]["temperature"]),
                top_p=float(row["sampling"]["top_p"]),
                model=str(row["model"].get("digest", "")),
            )
        )
    return rollouts, cut


class _Batch:
    """Padded tensors of some rollouts of one sampling setting."""

    def __init__(self, torch: Any, items: Sequence[tuple[int, Rollout]], pad: int, device: str):
        self.index = [i for i, _ in items]
        rollouts = [r for _, r in items]
        self.temperature, self.top_p = rollouts[0].setting
        width_p = max(len(r.prompt_ids) for r in rollouts)
        width_c = max(len(r.tokens) for r in rollouts)
        ids, attention, completion, mask = [], [], [], []
        for r in rollouts:
            left, right = width_p - len(r.prompt_ids), width_c - len(r.tokens)
            ids.append([pad] * left + list(r.prompt_ids) + list(r.tokens) + [pad] * right)
            attention.append([0] * left + [1] * (len(r.prompt_ids) + len(r.tokens)) + [0] * right)
            completion.append(list(r.tokens) + [pad] * right)
            mask.append([1] * len(r.tokens) + [0] * right)
        self.ids = torch.tensor(ids, device=device)
        self.attention = torch.tensor(attention, device=device)
        self.completion = torch.tensor(completion, device=device)
        self.mask = torch.tensor(mask, device=device, dtype=torch.float32)
        self.advantages = torch.tensor([r.advantage for r in rollouts], device=device)
        self.width = width_c
        self.tokens = sum(len(r.prompt_ids) + len(r.tokens) for r in rollouts)

    def logits(self, model: Any) -> Any:
        """``[B, C, V]`` logits predicting each completion token."""
        keep = self.width + 1
        out = model(input_ids=self.ids, attention_mask=self.attention, logits_to_keep=keep)
        return out.logits[:, :-1]

    def per_row(self, torch: Any, values: Sequence[Sequence[float]]) -> Any:
        """``[B, C]`` of per-rollout lists (``values[i]`` for rollout ``self.index[k]``)."""
        rows = [list(values[i]) + [0.0] * (self.width - len(values[i])) for i in self.index]
        return torch.tensor(rows, device=self.ids.device, dtype=torch.float32)


@dataclass(frozen=True)
class _Device:
    """Where and how batches are built: torch, transformers, the device, the pad id, the size."""

    torch: Any
    transformers: Any
    device: str
    pad: int
    size: int

    def batches(self, rollouts: Sequence[Rollout], rng: random.Random | None) -> Iterator[_Batch]:
        """Mini-batches of rollouts of one sampling setting; shuffled when ``rng`` is given."""
        by_setting: dict[tuple[float, float], list[tuple[int, Rollout]]] = defaultdict(list)
        for i, r in enumerate(rollouts):
            by_setting[r.setting].append((i, r))
        chunks: list[list[tuple[int, Rollout]]] = []
        for setting in sorted(by_setting):
            items = by_setting[setting]
            if rng is not None:
                rng.shuffle(items)
            chunks.extend(items[at : at + self.size] for at in range(0, len(items), self.size))
        if rng is not None:
            rng.shuffle(chunks)
        for chunk in chunks:
            yield _Batch(self.torch, chunk, self.pad, self.device)

    def score(
        self, model: Any, rollouts: Sequence[Rollout]
    ) -> tuple[list[list[float]], list[list[float]]]:
        """Per rollout: ``log q`` of its tokens at its sampling setting; the raw log-probs."""
        sampled: list[list[float]] = [[] for _ in rollouts]
        raw: list[list[float]] = [[] for _ in rollouts]
        with self.torch.no_grad():
            for batch in self.batches(rollouts, None):
                logits = batch.logits(model).float()
                q = sampling_logprobs(logits, batch.completion, batch.temperature, batch.top_p)
                p = sampling_logprobs(logits, batch.completion, 1.0, 1.0)
                for row, i in enumerate(batch.index):
                    n = len(rollouts[i].tokens)
                    sampled[i] = q[row, :n].tolist()
                    raw[i] = p[row, :n].tolist()
        return sampled, raw

    def load(self, model_dir: Path) -> Any:
        """The model in ``model_dir``, float32, on the device."""
        try:
            model = self.transformers.AutoModelForCausalLM.from_pretrained(
                model_dir, dtype=self.torch.float32
            )
        except (OSError, ValueError) as exc:
            raise TrainConfigError(f"cannot load the model in {model_dir}: {exc}") from None
        return model.to(self.device)

    def behaviour(
        self,
        model: Any,
        base_dir: Path,
        rollouts: Sequence[Rollout],
        behaviour_models: Mapping[str, Path],
    ) -> tuple[list[list[float]], dict[str, float]]:
        """``log mu`` per rollout (see the module docstring, step 2) and what it took."""
        behaviour: list[list[float]] = [list(r.logprobs) for r in rollouts]
        pending: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(rollouts):
            if not r.exact_behaviour:
                pending[r.model].append(i)
        mismatches = 0
        for digest, members in sorted(pending.items()):
            where = behaviour_models.get(digest)
            if where is None:
                r = rollouts[members[0]]
                raise TrainConfigError(
                    f"{len(members)} rollouts were sampled at temperature {r.temperature}, "
                    f"top_p {r.top_p} by model {digest}: their sampling probabilities must be "
                    "recomputed with that model; pass its checkpoint in behaviour_models"
                )
            same = Path(where).resolve() == Path(base_dir).resolve()
            scorer = model if same else self.load(Path(where))
            sampled, raw = self.score(scorer, [rollouts[i] for i in members])
            for i, q, p in zip(members, sampled, raw, strict=True):
                behaviour[i] = q
                recorded = rollouts[i].logprobs
                off = sum(abs(a - b) for a, b in zip(p, recorded, strict=True)) / len(recorded)
                mismatches += off > BEHAVIOUR_TOLERANCE
            del scorer
        recomputed = sum(len(m) for m in pending.values())
        return behaviour, {"behaviour_recomputed": recomputed, "behaviour_mismatches": mismatches}


def train_grpo(
    base_dir: Path,
    rows: Sequence[Mapping[str, Any]],
    out_dir: Path,
    config: TrainConfig,
    grpo: GrpoConfig,
    *,
    behaviour_models: Mapping[str, Path] | None = None,
    on_log: LogCallback | None = None,
) -> TrainResult:
    """Train the model in ``base_dir`` with GRPO on ``rows``; save it in ``out_dir``.

    ``behaviour_models`` maps a behaviour model's checkpoint CID to its
    directory; it is needed only for rollouts sampled at T != 1 or top-p < 1.
    Deterministic for a given ``config.seed`` on the same machine. ``on_log``
    gets one record per optimizer step (``loss``, ``learning_rate``, ``step``,
    ``ratio``, ``clipped``, ``kl``).

    Raises:
        TrainingError: no rows, a malformed row, or training diverged.
        TrainConfigError: the ml extra is missing, or a behaviour model is needed and not given.
    """
    if not rows:
        raise TrainingError("there are no rollouts to train on")
    _, torch, transformers, _ = import_ml()
    from worldgym.refinery.evaluate import default_device

    transformers.set_seed(config.seed)
    device = default_device()
    tokenizer = transformers.AutoTokenizer.from_pretrained(base_dir)
    pad = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
    run = _Device(torch, transformers, device, pad, config.batch_size)
    rollouts, cut = build_rollouts(rows, tokenizer, grpo, config.max_length)
    model = run.load(Path(base_dir))
    model.eval()
    behaviour, details = run.behaviour(model, Path(base_dir), rollouts, behaviour_models or {})
    reference = None
    if grpo.kl_beta > 0.0:  # the parent is the model before its first update
        reference, _ = run.score(model, rollouts)
    if config.lora:
        import peft

        model = peft.get_peft_model(model, lora_config(config))
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    batches_per_epoch = sum(
        math.ceil(n / config.batch_size) for n in Counter(r.setting for r in rollouts).values()
    )
    total_steps = math.ceil(batches_per_epoch / config.gradient_accumulation) * config.epochs
    scheduler = transformers.get_scheduler(
        config.lr_scheduler, optimizer,
        num_warmup_steps=math.ceil(config.warmup_ratio * total_steps),
        num_training_steps=total_steps,
    )  # fmt: skip
    autocast = torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=config.bf16)
    rng = random.Random(config.seed)
    tokens, step, losses = 0, 0, []
    sums = {"ratio": 0.0, "clipped": 0.0, "kl": 0.0}
    started = time.perf_counter()
    for _ in range(config.epochs):
        batches = list(run.batches(rollouts, rng))
        for start in range(0, len(batches), config.gradient_accumulation):
            window = batches[start : start + config.gradient_accumulation]
            normalizer = float(sum(float(b.mask.sum()) for b in window))
            step_loss = 0.0
            step_stats = dict.fromkeys(sums, 0.0)
            for batch in window:
                with autocast:
                    logits = batch.logits(model)
                logp = sampling_logprobs(logits, batch.completion, batch.temperature, batch.top_p)
                loss, stats = grpo_loss(
                    logp, batch.per_row(torch, behaviour), batch.advantages, batch.mask, grpo,
                    ref_logp=None if reference is None else batch.per_row(torch, reference),
                    normalizer=normalizer,
                )  # fmt: skip
                loss.backward()
                share = float(batch.mask.sum()) / max(normalizer, 1.0)
                step_loss += float(loss.detach())
                for key in step_stats:
                    step_stats[key] += getattr(stats, key) * share
                tokens += batch.tokens
            torch.nn.utils.clip_grad_norm_(params, _MAX_GRAD_NORM)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            losses.append(check_loss(step_loss, config))
            for key, value in step_stats.items():
                sums[key] += value
            if on_log is not None:
                lr = float(scheduler.get_last_lr()[0])
                on_log({"loss": step_loss, "learning_rate": lr, "step": float(step), **step_stats})
    seconds = time.perf_counter() - started
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    save_model(model, tokenizer, out_dir, lora=config.lora)
    details.update({f"mean_{key}": value / max(step, 1) for key, value in sums.items()})
    details.update(rollouts=len(rollouts), tokens_cut=cut)
    return TrainResult(out_dir, step, sum(losses) / max(len(losses), 1), tokens, seconds, details)
