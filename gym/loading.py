"""Loading specs from YAML or JSON, with errors that say what is wrong and what to do.

:func:`load_spec` parses, validates the model (:mod:`gym.spec`) and then checks
that *this machine* can reproduce the spec's tasks (installed reasoning-gym
version, dataset known and deterministic, config fields and values valid,
generator versions implemented): see :func:`gym.generators.check_reproducible`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gym.errors import SpecError
from gym.spec import EnvSpec

__all__ = ["MAX_SPEC_BYTES", "format_validation_error", "load_spec", "parse_spec"]

MAX_SPEC_BYTES = 1 << 20


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys (no two readings of one spec)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise SpecError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _reject_duplicate_json_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SpecError(f"duplicate key {key!r}")
        out[key] = value
    return out


def format_validation_error(exc: ValidationError) -> str:
    """One line per problem: ``where: what`` (pydantic's messages name the missing/unknown part)."""
    lines = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(spec)"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field (not part of worldgym.env/1; remove it or check its spelling)"
        elif err["type"] == "missing":
            message = "missing: this field is required"
        lines.append(f"  {where}: {message}")
    return "invalid environment spec:\n" + "\n".join(lines)


def _document(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(f"spec is {len(data)} bytes; the limit is {MAX_SPEC_BYTES}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"spec is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        if text.lstrip().startswith("{"):
            doc = json.loads(text, object_pairs_hook=_reject_duplicate_json_keys)
        else:
            doc = yaml.load(text, Loader=_UniqueKeyLoader)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise SpecError(f"spec is neither valid JSON nor valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise SpecError(f"a spec is a mapping of fields, got {type(doc).__name__}")
    return doc


def parse_spec(data: bytes | dict[str, Any]) -> EnvSpec:
    """Validate a spec document (YAML/JSON bytes or a parsed mapping), without machine checks."""
    doc = _document(data) if isinstance(data, bytes | bytearray) else data
    try:
        return EnvSpec.model_validate(doc)
    except ValidationError as exc:
        raise SpecError(format_validation_error(exc)) from None


def load_spec(source: str | Path | bytes, *, check: bool = True) -> EnvSpec:
    """Load a spec from a file path or from its bytes (YAML or JSON).

    Args:
        source: a path to a ``.yaml``/``.json`` file, or the spec's bytes.
        check: also verify that this machine can reproduce the spec's tasks
            (installed reasoning-gym version, dataset, config; see
            :func:`gym.generators.check_reproducible`).

    Raises:
        SpecError: the spec is malformed, has unknown fields or kinds.
        NotReproducibleError: a pinned version or dataset cannot be reproduced here.
    """
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SpecError(f"cannot read spec {path}: {exc.strerror}") from None
    spec = parse_spec(data)
    if check:
        from gym.generators import check_reproducible

        check_reproducible(spec)
    return spec
