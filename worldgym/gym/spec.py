"""The environment spec ``worldgym.env/1``: what an environment is, as data.

A spec names a task generator, a prompt template, how the answer is extracted
from a completion, the verifier and the token budget. It is strict: unknown
fields and unknown kinds are rejected (``extra="forbid"``, discriminated unions
on ``kind``), so two machines never read one spec two ways.

:meth:`EnvSpec.canonical_bytes` is what gets pinned to storage; :func:`json_schema`
is what spec authors validate against in their editors. Loading from YAML/JSON
and the checks that depend on this machine (installed versions) live in
:mod:`worldgym.gym.loading`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from worldgym.core.canonical import canonical_json
from worldgym.gym.regexes import check_shape

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "SCHEMA_ID",
    "BoxedExtract",
    "CodeBlockExtract",
    "CompositeGenerator",
    "CompositePart",
    "EnvSpec",
    "ExactVerifier",
    "Extract",
    "FullExtract",
    "Generator",
    "LeafGenerator",
    "MathVerifier",
    "Prompt",
    "PythonFunctionsGenerator",
    "PythonTestsVerifier",
    "ReasoningGymGenerator",
    "ReasoningGymVerifier",
    "RegexExtract",
    "RegexVerifier",
    "SpecSampling",
    "TagExtract",
    "Verifier",
    "check_regex",
    "json_schema",
    "leaf_generators",
]

SCHEMA_ID = "worldgym.env/1"
QUESTION_PLACEHOLDER = "{question}"

DEFAULT_SYSTEM_PROMPT = (
    "Solve the problem step by step. When you are done, give only the final answer "
    "between <answer> and </answer> tags, in the format the problem asks for."
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- regex safety


def check_regex(pattern: str) -> str:
    """Return ``pattern`` if it is safe to run on untrusted completions, else raise ValueError.

    Spec authors are untrusted and validators run their patterns on miners'
    completions, so a pattern with a repeat inside a repeat (``(a+)+``),
    overlapping alternatives in a repeat, a backreference, or ``{answer}``
    inside a character class is refused (:func:`worldgym.gym.regexes.check_shape`);
    the machine checks also time it on adversarial text (:func:`worldgym.gym.regexes.probe`).
    """
    return check_shape(pattern)


# --------------------------------------------------------------------------- generators


class ReasoningGymGenerator(_Strict):
    """A reasoning-gym procedural dataset, pinned to the reasoning-gym version it needs."""

    kind: Literal["reasoning_gym"]
    dataset: str = Field(pattern=r"^[a-z0-9_]{1,64}$", description="reasoning-gym dataset name")
    config: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="the dataset's config fields (not seed or size, which the protocol sets)",
    )
    reasoning_gym_version: str = Field(
        pattern=r"^\d+\.\d+\.\d+$", description="exact reasoning-gym version, e.g. 0.1.25"
    )


class PythonFunctionsGenerator(_Strict):
    """WorldGym's own generator of "write a Python function that ..." tasks with hidden tests."""

    kind: Literal["python_functions"]
    version: int = Field(ge=1, description="version of the generator code (tasks change with it)")
    families: list[str] = Field(
        default_factory=list, description="problem families to draw from; empty means all"
    )
    tests_per_task: int = Field(default=8, ge=1, le=64)
    examples_in_prompt: int = Field(default=2, ge=0, le=8)


LeafGenerator = Annotated[
    ReasoningGymGenerator | PythonFunctionsGenerator, Field(discriminator="kind")
]


class CompositePart(_Strict):
    """One part of a composite generator and its relative weight."""

    weight: float = Field(gt=0, allow_inf_nan=False)
    generator: LeafGenerator


class CompositeGenerator(_Strict):
    """Several generators; each task comes from one, picked by weight from the task seed."""

    kind: Literal["composite"]
    parts: list[CompositePart] = Field(min_length=1, max_length=64)


Generator = Annotated[
    ReasoningGymGenerator | PythonFunctionsGenerator | CompositeGenerator,
    Field(discriminator="kind"),
]


def leaf_generators(
    generator: ReasoningGymGenerator | PythonFunctionsGenerator | CompositeGenerator,
) -> list[ReasoningGymGenerator | PythonFunctionsGenerator]:
    """The non-composite generators a generator draws from (itself, or a composite's parts)."""
    if isinstance(generator, CompositeGenerator):
        return [part.generator for part in generator.parts]
    return [generator]


# --------------------------------------------------------------------------- prompt, extraction


class Prompt(_Strict):
    """Chat messages sent to the model: a system message and a user message with ``{question}``."""

    system: str = Field(default=DEFAULT_SYSTEM_PROMPT, max_length=20_000)
    user: str = Field(default=QUESTION_PLACEHOLDER, max_length=20_000)

    @field_validator("user")
    @classmethod
    def _has_question(cls, value: str) -> str:
        if QUESTION_PLACEHOLDER not in value:
            raise ValueError(f"the user template must contain {QUESTION_PLACEHOLDER}")
        return value


class TagExtract(_Strict):
    """The text inside the last ``<tag>...</tag>`` (default ``<answer>``), stripped."""

    kind: Literal["tag"]
    tag: str = Field(default="answer", pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


class BoxedExtract(_Strict):
    """The contents of the last ``\\boxed{...}`` (braces balanced), stripped."""

    kind: Literal["boxed"]


class CodeBlockExtract(_Strict):
    """The last fenced code block (```` ```python ... ``` ````); falls back to any fence."""

    kind: Literal["code_block"]
    language: str = Field(default="python", pattern=r"^[A-Za-z0-9_+-]{0,32}$")


class RegexExtract(_Strict):
    """Group ``group`` of the last match of ``pattern`` in the completion."""

    kind: Literal["regex"]
    pattern: str = Field(max_length=1000)
    group: int = Field(default=1, ge=0, le=99)

    @field_validator("pattern")
    @classmethod
    def _safe(cls, value: str) -> str:
        return check_regex(value)


class FullExtract(_Strict):
    """The whole completion, stripped."""

    kind: Literal["full"]


Extract = Annotated[
    TagExtract | BoxedExtract | CodeBlockExtract | RegexExtract | FullExtract,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- verifiers

_MAX_ANSWER = Field(default=20_000, ge=1, le=1_000_000, description="longer answers score 0")


class ReasoningGymVerifier(_Strict):
    """reasoning-gym's own scorer for the dataset the task came from."""

    kind: Literal["reasoning_gym"]
    max_answer_chars: int = _MAX_ANSWER


class MathVerifier(_Strict):
    """Mathematical equivalence with the reference answer (math-verify)."""

    kind: Literal["math"]
    max_answer_chars: int = Field(default=1000, ge=1, le=20_000)
    float_rounding: int = Field(default=6, ge=0, le=12)


class ExactVerifier(_Strict):
    """Equality with the reference; ``normalize`` folds case, spacing and trailing punctuation."""

    kind: Literal["exact"]
    normalize: bool = True
    max_answer_chars: int = _MAX_ANSWER


class RegexVerifier(_Strict):
    """The answer must fully match ``pattern``; ``{answer}`` in it is the escaped reference."""

    kind: Literal["regex"]
    pattern: str = Field(max_length=1000)
    ignore_case: bool = False
    max_answer_chars: int = Field(default=10_000, ge=1, le=100_000)

    @field_validator("pattern")
    @classmethod
    def _safe(cls, value: str) -> str:
        return check_regex(value)


class PythonTestsVerifier(_Strict):
    """Runs the task's hidden unit tests against the answer's code in the sandbox."""

    kind: Literal["python_tests"]
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="wall clock per completion")
    cpu_s: int = Field(default=5, ge=1, le=120)
    memory_mb: int = Field(default=512, ge=64, le=8192)
    partial_credit: bool = Field(default=False, description="score = fraction of tests passed")
    max_answer_chars: int = Field(default=50_000, ge=1, le=1_000_000)


Verifier = Annotated[
    ReasoningGymVerifier | MathVerifier | ExactVerifier | RegexVerifier | PythonTestsVerifier,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- the spec


class SpecSampling(_Strict):
    """How every completion is sampled: Gumbel-max over the top-p nucleus with the chain's noise.

    The miner has no say: every batch header must repeat these values, and
    validators check each token against them (docs/protocol-v2.md).
    """

    temperature: float = Field(
        default=1.0, ge=0.0, le=2.0, allow_inf_nan=False, description="0 is greedy"
    )
    top_p: float = Field(default=1.0, gt=0.0, le=1.0, allow_inf_nan=False)


class EnvSpec(_Strict):
    """An environment: ``worldgym.env/1``. Load one with :func:`worldgym.gym.load_spec`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_id: Literal["worldgym.env/1"] = Field(alias="schema")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    description: str = Field(default="", max_length=4000)
    generator: Generator
    prompt: Prompt = Prompt()
    extract: Extract = TagExtract(kind="tag")
    verifier: Verifier
    max_tokens: int = Field(
        default=2048, ge=1, le=32_768, description="token budget per completion"
    )
    sampling: SpecSampling = SpecSampling()
    group_size: int = Field(
        default=8,
        ge=2,
        le=64,
        description="completions per task; a group's disagreement is what a batch is paid for",
    )
    max_completion_chars: int | None = Field(
        default=None,
        ge=1,
        le=16_000_000,
        description="longer completions score 0; default 32 x max_tokens",
    )

    @model_validator(mode="after")
    def _compatible(self) -> EnvSpec:
        leaves = leaf_generators(self.generator)
        kinds = {leaf.kind for leaf in leaves}
        need = {"reasoning_gym": {"reasoning_gym"}, "python_tests": {"python_functions"}}.get(
            self.verifier.kind, {"reasoning_gym"}
        )
        if not kinds <= need:
            raise ValueError(
                f"verifier kind {self.verifier.kind!r} cannot score tasks from generator kind(s) "
                f"{sorted(kinds - need)}; it needs {sorted(need)}"
            )
        return self

    @property
    def completion_char_limit(self) -> int:
        """The longest completion scored at all (``max_completion_chars`` or 32 x max_tokens)."""
        return self.max_completion_chars or 32 * self.max_tokens

    def canonical_bytes(self) -> bytes:
        """Deterministic JSON (sorted keys, no spaces, UTF-8, defaults filled): what gets pinned."""
        return canonical_json(self.model_dump(mode="json", by_alias=True))


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``worldgym.env/1`` for spec authors and editors."""
    schema = EnvSpec.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:worldgym:schema:env:1",
        **schema,
    }
