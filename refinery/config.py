"""Settings of a training run (:class:`TrainConfig`) and of an evaluation (:class:`EvalConfig`).

The defaults suit the tiny byte-level model on a CPU; a real model on a GPU
wants LoRA, a smaller learning rate and a longer ``max_length``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from refinery.errors import TrainConfigError

__all__ = ["EvalConfig", "RoundConfig", "TrainConfig", "parse_config"]

_MIN_LENGTH = 16
_C = TypeVar("_C", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrainConfig(_Strict):
    """Supervised fine-tuning settings (see :func:`refinery.train.train_sft`).

    ``bf16`` (mixed precision) and ``gradient_checkpointing`` are for real models
    on a GPU; on a CPU both only slow the tiny model down.
    """

    learning_rate: Annotated[float, Field(allow_inf_nan=False)] = 3e-3
    epochs: Annotated[int, Field(ge=1, le=1000)] = 2
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 16
    gradient_accumulation: Annotated[int, Field(ge=1, le=1024)] = 1
    max_length: int = 256
    lr_scheduler: Literal["linear", "constant", "cosine"] = "linear"
    warmup_ratio: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    weight_decay: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    bf16: bool = False
    gradient_checkpointing: bool = False
    lora: bool = False
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    lora_target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    seed: Annotated[int, Field(ge=0, lt=2**32)] = 0

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not 0.0 < self.learning_rate <= 1.0:
            raise ValueError(
                f"learning_rate is {self.learning_rate}; set it in (0, 1] "
                "(e.g. 3e-3 for the tiny model, 1e-5 to 2e-4 for a real one)"
            )
        if self.max_length < _MIN_LENGTH:
            raise ValueError(
                f"max_length is {self.max_length}; set it to at least {_MIN_LENGTH} tokens "
                "(prompt plus completion must fit)"
            )
        if self.lora:
            if self.lora_r <= 0:
                raise ValueError(f"lora_r is {self.lora_r}; set it to a positive rank (e.g. 8)")
            if self.lora_alpha <= 0:
                raise ValueError(
                    f"lora_alpha is {self.lora_alpha}; set it positive (e.g. 2 * lora_r)"
                )
            if not 0.0 <= self.lora_dropout < 1.0:
                raise ValueError(f"lora_dropout is {self.lora_dropout}; set it in [0, 1)")
            if not self.lora_target_modules:
                raise ValueError(
                    "lora_target_modules is empty; name the layers to adapt (e.g. q_proj)"
                )
        return self


class EvalConfig(_Strict):
    """Evaluation settings (see :func:`refinery.evaluate.evaluate`).

    ``samples_per_task`` completions are drawn per task; pass@k is estimated
    for each ``k`` in ``ks`` (each at most ``samples_per_task``).
    """

    tasks: Annotated[int, Field(ge=1, le=100_000)] = 64
    samples_per_task: Annotated[int, Field(ge=1, le=256)] = 4
    ks: tuple[int, ...] = (1,)
    temperature: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = 1.0
    top_p: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)] = 1.0
    max_new_tokens: Annotated[int, Field(ge=1, le=32_768)] = 32
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 64
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0

    @model_validator(mode="after")
    def _check(self) -> Self:
        bad = [k for k in self.ks if not 1 <= k <= self.samples_per_task]
        if not self.ks or bad:
            raise ValueError(
                f"ks {list(self.ks)} must be non-empty and each in [1, samples_per_task="
                f"{self.samples_per_task}]; raise samples_per_task or drop {bad}"
            )
        return self


class RoundConfig(_Strict):
    """One expert-iteration round (see :func:`refinery.loop_offline.expert_iteration_round`).

    ``samples_per_task`` completions are drawn per training task with the
    sampling settings here; ``train`` fine-tunes on the verified ones and
    ``eval`` measures the result.
    """

    samples_per_task: Annotated[int, Field(ge=1, le=256)] = 8
    temperature: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = 1.0
    top_p: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)] = 1.0
    max_new_tokens: Annotated[int, Field(ge=1, le=32_768)] = 32
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 64
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()


def parse_config(cls: type[_C], values: dict[str, Any]) -> _C:
    """``cls(**values)``, with pydantic's errors turned into one :class:`TrainConfigError`."""
    try:
        return cls.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or cls.__name__}: "
            f"{str(err['msg']).removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise TrainConfigError(f"invalid {cls.__name__}: {problems}") from None
