"""Settings of a training run (:class:`TrainConfig`, :class:`GrpoConfig`) and of an
evaluation (:class:`EvalConfig`).

The defaults suit the tiny byte-level model on a CPU; a real model on a GPU
wants LoRA, a smaller learning rate and a longer ``max_length``. The refinery
trains with one of two algorithms (:data:`Algorithm`): ``sft`` fine-tunes on the verified
correct traces, ``grpo`` learns from the contrast inside each informative group
(:mod:`worldgym.refinery.grpo`); both share :class:`TrainConfig`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from worldgym.refinery.errors import TrainConfigError

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "EvalConfig",
    "GrpoConfig",
    "RoundConfig",
    "TrainConfig",
    "parse_config",
]

_MIN_LENGTH = 16
_C = TypeVar("_C", bound=BaseModel)

Algorithm = Literal["sft", "grpo"]
# Backends that load a checkpoint directory themselves (a served model cannot be a candidate).
LocalBackend = Literal["transformers", "vllm"]
ALGORITHMS: tuple[Algorithm, ...] = ("sft", "grpo")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrainConfig(_Strict):
    """Supervised fine-tuning settings (see :func:`worldgym.refinery.train.train_sft`).

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


class GrpoConfig(_Strict):
    """The GRPO objective (:mod:`refinery.grpo`); the optimizer's settings are :class:`TrainConfig`.

    Per token, with ``r = pi_theta / mu`` against the behaviour probability
    ``mu`` (the sampling distribution of the model that drew the trace):
    ``-min(min(r, delta) * A, clip(r, 1 - clip_low, 1 + clip_high) * A)``, plus
    ``kl_beta`` times the k3 estimate of KL(pi_theta || parent).

    ``clip_low`` / ``clip_high``: the trust region around the behaviour policy
    (0.2 / 0.28: PPO and DAPO's clip-higher). ``delta``: caps the unclipped
    ratio, which for a negative advantage is otherwise unbounded on stale
    rollouts (INTELLECT-2's two-sided clipping; None turns it off).
    ``scale_rewards``: divide each group's centred scores by their standard
    deviation (GRPO); off, advantages are only centred (Dr. GRPO).
    ``kl_beta``: 0 skips the reference model entirely.
    """

    clip_low: Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)] = 0.2
    clip_high: Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)] = 0.28
    delta: Annotated[float | None, Field(gt=1.0, le=100.0, allow_inf_nan=False)] = 4.0
    kl_beta: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = 0.0
    scale_rewards: bool = True

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.delta is not None and self.delta <= 1.0 + self.clip_high:
            raise ValueError(
                f"delta ({self.delta}) must be above 1 + clip_high ({1.0 + self.clip_high}), "
                "or it clips the ratio inside the trust region: raise it or set it to None"
            )
        return self


class EvalConfig(_Strict):
    """Evaluation settings (see :func:`worldgym.refinery.evaluate.evaluate`).

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
    backend: LocalBackend = "transformers"

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
    """One chain-free refinery round (see :func:`worldgym.refinery.loop_offline.refine_round`).

    The current model samples a group of completions per training task, the
    way miners do: ``group_size``, ``temperature`` and ``top_p`` are the
    environment spec's unless set here, the noise comes from each task's seed.
    ``algorithm`` trains on them (``sft``: the verified ones, ``grpo``: the
    informative groups) with ``train`` (and ``grpo``); ``eval`` measures the result.
    ``max_new_tokens`` caps each completion (the spec's budget may be far longer
    than a small model needs).
    """

    group_size: Annotated[int | None, Field(ge=2, le=64)] = None
    temperature: Annotated[float | None, Field(gt=0.0, le=10.0, allow_inf_nan=False)] = None
    top_p: Annotated[float | None, Field(gt=0.0, le=1.0, allow_inf_nan=False)] = None
    max_new_tokens: Annotated[int, Field(ge=1, le=32_768)] = 32
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 64
    backend: LocalBackend = "transformers"
    algorithm: Algorithm = "sft"
    train: TrainConfig = TrainConfig()
    grpo: GrpoConfig = GrpoConfig()
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
