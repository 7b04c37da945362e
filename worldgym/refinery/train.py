"""Supervised fine-tuning of a checkpoint on chat examples, with TRL's ``SFTTrainer``.

Each example is ``{"messages": [..., {"role": "assistant", "content": ...}]}``.
It becomes a prompt/completion pair: the prompt is the chat template of every
message but the last, ending with the assistant header
(:func:`worldgym.core.prompts.chat_prompt_text`: what every backend feeds the
model at generation), and the completion is the assistant's text followed by the end-of-sequence
token. The loss covers the completion only. With ``lora`` the adapter is
merged before saving, so ``out_dir`` is always a full model directory
(safetensors + tokenizer) that :class:`~worldgym.policy.hf.TransformersPolicy` loads.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from worldgym.core.prompts import chat_prompt_text
from worldgym.refinery.config import TrainConfig
from worldgym.refinery.errors import TrainConfigError, TrainingError

__all__ = [
    "LogCallback",
    "TrainResult",
    "build_trainer",
    "check_loss",
    "checkpointing_option",
    "import_ml",
    "lora_config",
    "save_model",
    "sft_rows",
    "train_sft",
]

LogCallback = Callable[[dict[str, float]], None]


@dataclass(frozen=True)
class TrainResult:
    """What a training run did: where the model is, optimizer steps, mean loss, tokens, time.

    ``details`` holds an algorithm's own figures (GRPO: clipped fraction,
    mean ratio, behaviour log-probabilities recomputed, ...).
    """

    out_dir: Path
    steps: int
    train_loss: float
    tokens: int
    seconds: float
    details: dict[str, float] = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        """Training throughput (every token of every sequence, per epoch)."""
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


def import_ml() -> tuple[Any, Any, Any, Any]:
    """``datasets, torch, transformers, trl``, quietened; TrainConfigError when missing."""
    try:
        import datasets
        import torch
        import transformers
        import trl
    except ImportError as exc:
        raise TrainConfigError(
            f"training needs the ml extra (pip install 'worldgym[ml]'): {exc}"
        ) from None
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    transformers.utils.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    return datasets, torch, transformers, trl


def sft_rows(tokenizer: Any, examples: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """``{"prompt", "completion"}`` rows (text) for ``examples``; see the module docstring.

    Raises:
        TrainingError: an example is not a chat ending with a non-empty assistant turn.
    """
    rows = []
    for number, example in enumerate(examples):
        messages = example.get("messages") if isinstance(example, Mapping) else None
        if not isinstance(messages, list) or len(messages) < 2:
            raise TrainingError(
                f"example {number} needs 'messages': a prompt and a final assistant turn"
            )
        last = messages[-1]
        if not isinstance(last, Mapping) or last.get("role") != "assistant":
            raise TrainingError(f"example {number} does not end with an assistant message")
        content = last.get("content")
        if not isinstance(content, str) or not content:
            raise TrainingError(f"example {number} has an empty assistant message")
        rows.append({"prompt": chat_prompt_text(tokenizer, messages[:-1]), "completion": content})
    return rows


class _Forward:
    """A ``transformers`` callback that hands each log record to ``on_log``."""

    def __new__(cls, transformers: Any, on_log: LogCallback) -> Any:
        class Forward(transformers.TrainerCallback):  # type: ignore[misc]
            def on_log(
                self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any
            ) -> None:
                if logs:
                    record = {k: float(v) for k, v in logs.items() if isinstance(v, int | float)}
                    record["step"] = float(state.global_step)
                    on_log(record)

        return Forward()


def lora_config(config: TrainConfig) -> Any:
    """The ``peft.LoraConfig`` of ``config``'s LoRA settings."""
    try:
        import peft
    except ImportError as exc:
        raise TrainConfigError(f"lora needs peft (pip install 'worldgym[ml]'): {exc}") from None
    return peft.LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_target_modules),
        task_type="CAUSAL_LM",
    )


def save_model(model: Any, tokenizer: Any, out_dir: Path, *, lora: bool) -> None:
    """Save ``model`` (its LoRA adapter merged first) and ``tokenizer`` as safetensors."""
    if lora:
        model = model.merge_and_unload()
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)


def check_loss(loss: float, config: TrainConfig) -> float:
    """``loss``, or TrainingError when it is not finite (the run diverged)."""
    if not math.isfinite(loss):
        raise TrainingError(
            f"training diverged (loss {loss}); lower learning_rate (now {config.learning_rate})"
        )
    return loss


def checkpointing_option(config_class: Any, enabled: bool) -> dict[str, bool]:
    """The activation-checkpointing switch under its name in this transformers release
    (``activation_checkpointing`` since 5.x, ``gradient_checkpointing`` before). Always set:
    TRL's own default turns it on, which only slows a small model down."""
    names = {f.name for f in fields(config_class)}
    name = (
        "activation_checkpointing"
        if "activation_checkpointing" in names
        else "gradient_checkpointing"
    )
    return {name: enabled}


def build_trainer(
    model_dir: Path,
    rows: list[dict[str, str]],
    work_dir: Path,
    config: TrainConfig,
    *,
    on_log: LogCallback | None = None,
) -> Any:
    """A configured ``trl.SFTTrainer`` for prompt/completion ``rows`` (no reporting, no hub)."""
    datasets, torch, transformers, trl = import_ml()
    transformers.set_seed(config.seed)
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    args = trl.SFTConfig(
        output_dir=str(work_dir),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,
        weight_decay=config.weight_decay,
        lr_scheduler_type=config.lr_scheduler,
        max_length=config.max_length,
        completion_only_loss=True,
        seed=config.seed,
        data_seed=config.seed,
        use_cpu=not torch.cuda.is_available(),
        report_to=[],
        push_to_hub=False,
        save_strategy="no",
        logging_steps=1,
        logging_strategy="steps",
        disable_tqdm=True,
        dataloader_num_workers=0,
        bf16=config.bf16,
        fp16=False,
        **checkpointing_option(trl.SFTConfig, config.gradient_checkpointing),
    )
    peft_config = lora_config(config) if config.lora else None
    callbacks = [_Forward(transformers, on_log)] if on_log is not None else None
    try:
        trainer = trl.SFTTrainer(
            model=model,
            args=args,
            train_dataset=datasets.Dataset.from_list(rows),
            processing_class=tokenizer,
            peft_config=peft_config,
            callbacks=callbacks,
        )
    except ValueError as exc:
        raise TrainConfigError(f"cannot set up training on {model_dir}: {exc}") from None
    trainer.remove_callback(transformers.PrinterCallback)  # on_log replaces its prints
    return trainer


def train_sft(
    base_dir: Path,
    examples: Sequence[Mapping[str, Any]],
    out_dir: Path,
    config: TrainConfig,
    on_log: LogCallback | None = None,
) -> TrainResult:
    """Fine-tune the model in ``base_dir`` on ``examples`` and save the result in ``out_dir``.

    Deterministic for a given ``config.seed`` on the same machine. ``on_log``
    gets each log record (``loss``, ``learning_rate``, ``step``, ...).

    Raises:
        TrainingError: there are no examples, one is malformed, or training diverged.
        TrainConfigError: the ml extra is missing or the model cannot be trained as set.
    """
    if not examples:
        raise TrainingError("there are no examples to train on")
    _, _, transformers, _ = import_ml()
    tokenizer = transformers.AutoTokenizer.from_pretrained(base_dir)
    rows = sft_rows(tokenizer, examples)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".trainer-", dir=out_dir))
    try:
        trainer = build_trainer(Path(base_dir), rows, work, config, on_log=on_log)
        tokens = _token_count(trainer) * config.epochs
        started = time.perf_counter()
        output = trainer.train()
        seconds = time.perf_counter() - started
        loss = check_loss(float(output.training_loss), config)
        save_model(trainer.model, trainer.processing_class, out_dir, lora=config.lora)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return TrainResult(out_dir, int(output.global_step), loss, tokens, seconds)


def _token_count(trainer: Any) -> int:
    """Tokens in one epoch of the trainer's (tokenized, truncated) training set."""
    return sum(len(ids) for ids in trainer.train_dataset["input_ids"])
