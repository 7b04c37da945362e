"""``worldgym.batch/2``: the document a miner pins and a validator scores.

A batch is one JSON document: a header that binds it to one submission on
chain (chain, contract, epoch, miner, environment, version, sequence, model)
and its traces. Traces are grouped: ``task_count`` tasks, ``group_size``
samples each, so the trace count declared on chain is
``task_count * group_size``. Task ``i`` of the batch with on-chain sequence
``s`` is derived from the task index ``s << 32 | i`` (see :func:`task_index`),
so a miner cannot choose its tasks, reuse them in another batch, or drop the
ones it failed: the indices must be exactly ``0..task_count-1``.

Everything read from the network goes through :func:`parse_batch`, which
bounds the size, rejects NaN and infinities, checks every field and every
cross-field rule, and raises :class:`BatchFormatError` with a reason a miner can
act on. :func:`encode_batch` gives the canonical bytes that are pinned.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from worldgym.core.canonical import canonical_json
from worldgym.core.errors import WorldGymError

__all__ = [
    "BATCH_SCHEMA",
    "MAX_BATCH_BYTES",
    "BatchDocument",
    "BatchFormatError",
    "BatchHeader",
    "Message",
    "ModelRef",
    "Sampling",
    "Trace",
    "batch_json_schema",
    "encode_batch",
    "parse_batch",
    "task_index",
]

BATCH_SCHEMA: Final = "worldgym.batch/2"
MAX_BATCH_BYTES = 64 * 1024 * 1024
MAX_TRACES = 4096
MAX_TEXT = 200_000
MAX_TOKENS = 32_768
_ADDRESS = r"^0x[0-9a-fA-F]{40}$"
_U32 = 2**32


class BatchFormatError(WorldGymError, ValueError):
    """A batch document that cannot be accepted; the message is the reason given to the miner."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Message(_Strict):
    """One chat message of a prompt."""

    role: Literal["system", "user", "assistant"]
    content: Annotated[str, Field(max_length=MAX_TEXT)]


class ModelRef(_Strict):
    """The model that generated the traces: its registry id and checkpoint CID."""

    id: Annotated[int, Field(ge=1)]
    digest: Annotated[str, Field(min_length=1, max_length=128)]


class Sampling(_Strict):
    """How every trace was sampled: the environment spec's settings, repeated in the header.

    The randomness is not a setting: each sample's noise comes from its task
    seed and sample index (:mod:`worldgym.policy.gumbel`, docs/protocol-v2.md), so
    there is no seed to declare (version 1 had one, which let a miner choose).
    """

    temperature: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)]
    top_p: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
    max_new_tokens: Annotated[int, Field(ge=1, le=MAX_TOKENS)]


class BatchHeader(_Strict):
    """What the batch claims to be; checked against the on-chain submission."""

    schema_: Literal["worldgym.batch/2"] = Field(alias="schema")
    chain_id: Annotated[int, Field(ge=1)]
    contract: Annotated[str, Field(pattern=_ADDRESS)]
    epoch: Annotated[int, Field(ge=0)]
    miner: Annotated[str, Field(pattern=_ADDRESS)]
    env_id: Annotated[int, Field(ge=1, lt=_U32)]
    env_version: Annotated[int, Field(ge=1, lt=_U32)]
    sequence: Annotated[int, Field(ge=0, lt=_U32)]
    model: ModelRef
    sampling: Sampling
    task_count: Annotated[int, Field(ge=1, le=MAX_TRACES)]
    group_size: Annotated[int, Field(ge=2, le=64)]


class Trace(_Strict):
    """One completion for one task."""

    task: Annotated[int, Field(ge=0, lt=MAX_TRACES)]
    sample: Annotated[int, Field(ge=0, lt=64)]
    prompt: Annotated[list[Message], Field(min_length=1, max_length=16)]
    completion: Annotated[str, Field(max_length=MAX_TEXT)]
    answer: Annotated[str | None, Field(max_length=MAX_TEXT)]
    tokens: Annotated[list[Annotated[int, Field(ge=0, lt=2**31)]], Field(max_length=MAX_TOKENS)]
    logprobs: Annotated[
        list[Annotated[float, Field(le=0.0, allow_inf_nan=False)]], Field(max_length=MAX_TOKENS)
    ]

    @model_validator(mode="after")
    def _aligned(self) -> Trace:
        if len(self.tokens) != len(self.logprobs):
            raise ValueError(
                f"has {len(self.tokens)} tokens but {len(self.logprobs)} log-probabilities"
            )
        return self


class BatchDocument(_Strict):
    """A whole ``worldgym.batch/2`` document."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)

    header: BatchHeader
    traces: Annotated[list[Trace], Field(min_length=1, max_length=MAX_TRACES)]

    @model_validator(mode="after")
    def _grouped(self) -> BatchDocument:
        h = self.header
        expected = h.task_count * h.group_size
        if len(self.traces) != expected:
            raise ValueError(
                f"header declares {h.task_count} tasks x {h.group_size} samples = {expected} "
                f"traces, the document has {len(self.traces)}"
            )
        seen: set[tuple[int, int]] = set()
        for n, t in enumerate(self.traces):
            if t.task >= h.task_count or t.sample >= h.group_size:
                raise ValueError(
                    f"trace {n} is task {t.task} sample {t.sample}, outside "
                    f"{h.task_count} tasks x {h.group_size} samples"
                )
            if (t.task, t.sample) in seen:
                raise ValueError(f"trace {n} repeats task {t.task} sample {t.sample}")
            seen.add((t.task, t.sample))
        return self

    @property
    def trace_count(self) -> int:
        """``task_count * group_size``: what ``submitBatch`` declares."""
        return self.header.task_count * self.header.group_size


def task_index(sequence: int, task: int) -> int:
    """The index a task is derived from: ``sequence << 32 | task``."""
    if not (0 <= sequence < _U32 and 0 <= task < _U32):
        raise ValueError(f"sequence {sequence} and task {task} must each fit in 32 bits")
    return (sequence << 32) | task


def encode_batch(doc: BatchDocument) -> bytes:
    """Canonical bytes: sorted keys, no whitespace, UTF-8, no NaN (what gets pinned)."""
    return canonical_json(doc.model_dump(mode="json", by_alias=True))


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
MAX_DEPTH = 16


def _check_depth(data: bytes, limit: int = MAX_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit`` before any parser recurses into it.

    CPython's JSON decoder recurses per nesting level, and a deep enough
    document overflows the C stack and kills the process; a batch is never
    legitimately more than a few levels deep. String literals are cut out and
    everything but brackets deleted (both in C), so only the skeleton is walked.
    """
    skeleton = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = 0
    for char in skeleton:
        if char in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                raise BatchFormatError(f"batch JSON is nested deeper than {limit} levels")
        else:
            depth -= 1


def _reject_constant(name: str) -> Any:
    raise BatchFormatError(f"not valid {BATCH_SCHEMA}: {name} is not allowed in a batch")


def parse_batch(data: bytes, *, max_bytes: int = MAX_BATCH_BYTES) -> BatchDocument:
    """Parse untrusted bytes into a :class:`BatchDocument` or raise :class:`BatchFormatError`.

    A valid document takes the fast path: pydantic-core parses and validates the
    bytes in one pass (its JSON parser has its own nesting limit and never
    recurses in Python). Anything it refuses is parsed again the careful way
    (:func:`_parse_checked`), which is what decides and says why.
    """
    if len(data) > max_bytes:
        raise BatchFormatError(f"batch is {len(data):,} bytes, over the cap of {max_bytes:,}")
    try:
        return BatchDocument.model_validate_json(data)
    except (ValueError, TypeError, OverflowError):  # pydantic's ValidationError included
        pass
    return _parse_checked(data)


def _parse_checked(data: bytes) -> BatchDocument:
    """The slow path: depth check, ``json.loads``, schema check, validation, each with a reason."""
    _check_depth(data)
    try:
        raw = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise BatchFormatError(f"batch is not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise BatchFormatError("batch JSON is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise BatchFormatError(f"batch is not valid JSON: {exc.msg} at byte {exc.pos}") from None
    header = raw.get("header") if isinstance(raw, dict) else None
    found = header.get("schema") if isinstance(header, dict) else None
    if found != BATCH_SCHEMA:
        what = found if isinstance(header, dict) else f"no header object in a {type(raw).__name__}"
        raise BatchFormatError(f"not a {BATCH_SCHEMA} document (schema: {str(what)[:80]!r})")
    try:
        return BatchDocument.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise BatchFormatError(f"not valid {BATCH_SCHEMA}: {where}: {first['msg'][:200]}") from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise BatchFormatError(f"not valid {BATCH_SCHEMA}: {str(exc)[:200]}") from None


def batch_json_schema() -> dict[str, Any]:
    """JSON Schema of ``worldgym.batch/2`` for other implementations."""
    schema = BatchDocument.model_json_schema(by_alias=True)
    schema["$id"] = "https://worldgym.dev/schemas/batch-2.json"
    schema["title"] = BATCH_SCHEMA
    return schema
