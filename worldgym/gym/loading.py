"""Loading specs from YAML or JSON, with errors that say what is wrong and what to do.

:func:`load_spec` parses, validates the model (:mod:`worldgym.gym.spec`) and then checks
that *this machine* can use it (installed reasoning-gym version, dataset known
and deterministic, config within bounds, regexes fast, sample tasks derivable):
see :mod:`worldgym.gym.checks`.

Spec bytes may come from the network, so parsing is bounded in time and memory
whatever the process's recursion limit: at most :data:`MAX_SPEC_BYTES`, nesting
at most :data:`MAX_SPEC_DEPTH`, JSON through
:func:`worldgym.storage.bounded_json.loads_bounded` and YAML through
:mod:`worldgym.gym._yaml` (no anchors, aliases or exotic tags; at most
:data:`MAX_SPEC_NODES` values). Every refusal is one :class:`SpecError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from worldgym.gym._yaml import YAMLLimitError, load_bounded_yaml
from worldgym.gym.errors import SpecError
from worldgym.gym.spec import EnvSpec
from worldgym.storage.bounded_json import JSONLimitError, loads_bounded

__all__ = [
    "MAX_SPEC_BYTES",
    "MAX_SPEC_DEPTH",
    "MAX_SPEC_NODES",
    "format_validation_error",
    "parse_spec",
    "read_spec",
]

MAX_SPEC_BYTES = 1 << 20
MAX_SPEC_DEPTH = 32
MAX_SPEC_NODES = 20_000
_MAX_ERROR_LINES = 20


def format_validation_error(exc: ValidationError) -> str:
    """One line per problem: ``where: what`` (pydantic's messages name the missing/unknown part)."""
    lines = []
    errors = exc.errors(include_url=False)
    for err in errors[:_MAX_ERROR_LINES]:
        where = ".".join(str(p) for p in err["loc"])[:200] or "(spec)"
        message = err["msg"][:300]
        if err["type"] == "extra_forbidden":
            message = "unknown field (not part of worldgym.env/1; remove it or check its spelling)"
        elif err["type"] == "missing":
            message = "missing: this field is required"
        lines.append(f"  {where}: {message}")
    if len(errors) > _MAX_ERROR_LINES:
        lines.append(f"  ... and {len(errors) - _MAX_ERROR_LINES} more")
    return "invalid environment spec:\n" + "\n".join(lines)


def _document(data: bytes, *, json_only: bool = False) -> dict[str, Any]:
    """The spec's mapping, parsed within bounds (size, depth, values; see the module docstring)."""
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(f"spec is {len(data):,} bytes; the limit is {MAX_SPEC_BYTES:,}")
    if json_only or data.lstrip()[:1] == b"{":
        try:
            doc = loads_bounded(
                data, max_bytes=MAX_SPEC_BYTES, max_depth=MAX_SPEC_DEPTH, what="spec",
                unique_keys=True,
            )  # fmt: skip
        except JSONLimitError as exc:
            raise SpecError(str(exc)) from None
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError(f"spec is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        try:
            doc = load_bounded_yaml(text, max_depth=MAX_SPEC_DEPTH, max_nodes=MAX_SPEC_NODES)
        except YAMLLimitError as exc:
            raise SpecError(f"spec YAML refused: {exc}") from None
        except yaml.YAMLError as exc:
            where = " ".join(str(exc).split())[:300]
            raise SpecError(f"spec is neither valid JSON nor valid YAML: {where}") from None
    if doc is None:
        raise SpecError("the spec is empty: a spec is a mapping of fields")
    if not isinstance(doc, dict):
        raise SpecError(f"a spec is a mapping of fields, got {type(doc).__name__}")
    return doc


def parse_spec(data: bytes | dict[str, Any]) -> EnvSpec:
    """Validate a spec document (YAML/JSON bytes or a parsed mapping), without machine checks."""
    doc = _document(bytes(data)) if isinstance(data, bytes | bytearray) else data
    try:
        return EnvSpec.model_validate(doc)
    except ValidationError as exc:
        raise SpecError(format_validation_error(exc)) from None


def read_spec(source: str | Path | bytes, *, json_only: bool = False) -> EnvSpec:
    """Parse a spec from a file path or from its bytes (YAML or JSON), without this
    machine's checks (:func:`worldgym.gym.environment.load_spec` runs them).

    Raises:
        SpecError: the spec is malformed, too large or deep, or has unknown fields or kinds.
    """
    data = bytes(source) if isinstance(source, bytes | bytearray) else _read(Path(source))
    return parse_spec(_document(data, json_only=json_only))


def _read(path: Path) -> bytes:
    """At most one byte more than the limit (a huge or endless file is not read whole)."""
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise SpecError(f"cannot read spec {path}: {exc.strerror}") from None
