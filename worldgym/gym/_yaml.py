"""A bounded YAML reader for specs: plain data only, no anchors, aliases or exotic tags.

PyYAML's safe loader is not safe against hostile input: a 620-byte alias bomb
expands to gigabytes, 100 KB of nested ``[`` costs its scanner quadratic time
and its composer and constructor recurse once per level (a crash in a process
whose recursion limit was raised). This reader drives PyYAML's scanner and
parser event by event and builds the value itself, iteratively:

* anchors (``&a``) and aliases (``*a``) are refused, so nothing is shared or expanded;
* only the core tags are allowed (str, int, float, bool, null, seq, map), so
  timestamps, binary, sets and ``<<`` merge keys are refused with the reason;
* nesting (block or flow) is capped at ``max_depth``, checked as the scanner
  enters each level, and the number of nodes at ``max_nodes``;
* mapping keys must be strings and may not repeat; floats must be finite;
  one document per stream.

Every refusal is a :class:`YAMLLimitError` naming the line.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

__all__ = ["YAMLLimitError", "load_bounded_yaml"]

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_CORE + name for name in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP = _CORE + "seq", _CORE + "map"
_NO_KEY = object()


class YAMLLimitError(ValueError):
    """YAML that is not plain, bounded data; the message says what and where."""


def _line(event: yaml.Event) -> int:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else 0


class _Builder:
    """Builds one document from parser events with an explicit stack (no recursion)."""

    def __init__(self, loader: yaml.SafeLoader, max_depth: int, max_nodes: int) -> None:
        self.loader: Any = loader  # PyYAML's loader methods are untyped
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.nodes = 0
        self.stack: list[tuple[list[Any] | dict[str, Any], Any]] = []
        self.root: Any = _NO_KEY

    def _refuse(self, event: yaml.Event, why: str) -> YAMLLimitError:
        return YAMLLimitError(f"line {_line(event)}: {why}")

    def _check_common(self, event: yaml.NodeEvent) -> None:
        if event.anchor is not None:
            raise self._refuse(event, f"anchors (&{event.anchor}) are not allowed in a spec")
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise self._refuse(event, f"more than {self.max_nodes:,} values")

    def _scalar(self, event: yaml.ScalarEvent) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
            if tag not in _SCALAR_TAGS:
                short = tag.removeprefix(_CORE)
                raise self._refuse(
                    event, f"{short} values are not allowed; quote {event.value[:40]!r} as a string"
                )
        elif tag not in _SCALAR_TAGS:
            raise self._refuse(event, f"tag {tag!r} is not allowed in a spec")
        node = yaml.ScalarNode(tag, event.value, style=event.style)
        try:
            value = self.loader.yaml_constructors[tag](self.loader, node)
        except ValueError as exc:  # e.g. an integer longer than CPython converts
            raise self._refuse(event, f"not a valid value: {str(exc)[:120]}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self._refuse(event, "infinite or NaN numbers are not allowed")
        return value

    def _place(self, event: yaml.Event, value: Any, container: bool) -> None:
        """Put ``value`` where the parser says it goes: root, list item, key or mapping value."""
        if not self.stack:
            self.root = value
            return
        parent, key = self.stack[-1]
        if isinstance(parent, list):
            parent.append(value)
        elif key is _NO_KEY:
            if container or not isinstance(value, str):
                raise self._refuse(event, "mapping keys must be strings")
            if value in parent:
                raise self._refuse(event, f"duplicate key {value[:80]!r}")
            self.stack[-1] = (parent, value)
        else:
            parent[key] = value
            self.stack[-1] = (parent, _NO_KEY)

    def _open(self, event: yaml.CollectionStartEvent, kind: str) -> None:
        self._check_common(event)
        if event.tag not in (None, "!", kind):
            raise self._refuse(event, f"tag {event.tag!r} is not allowed in a spec")
        if len(self.stack) >= self.max_depth:
            raise self._refuse(event, f"nested deeper than {self.max_depth} levels")
        container: list[Any] | dict[str, Any] = [] if kind == _SEQ else {}
        self._place(event, container, container=True)
        self.stack.append((container, _NO_KEY))

    def run(self) -> Any:
        documents = 0
        loader = self.loader
        while True:
            event = loader.get_event()
            if loader.flow_level > self.max_depth:  # checked as the scanner enters each level
                raise self._refuse(event, f"nested deeper than {self.max_depth} levels")
            if isinstance(event, yaml.ScalarEvent):
                self._check_common(event)
                self._place(event, self._scalar(event), container=False)
            elif isinstance(event, yaml.SequenceStartEvent):
                self._open(event, _SEQ)
            elif isinstance(event, yaml.MappingStartEvent):
                self._open(event, _MAP)
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                self.stack.pop()
            elif isinstance(event, yaml.AliasEvent):
                raise self._refuse(event, f"aliases (*{event.anchor}) are not allowed in a spec")
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self._refuse(event, "a spec is one YAML document, found a second")
            elif isinstance(event, yaml.StreamEndEvent):
                return None if self.root is _NO_KEY else self.root


def load_bounded_yaml(text: str, *, max_depth: int, max_nodes: int) -> Any:
    """The plain data in one YAML document, within the bounds (see the module docstring).

    Raises:
        YAMLLimitError: refused (anchor, alias, tag, depth, size, key), with the line.
        yaml.YAMLError: not YAML at all (the scanner or parser says where).
    """
    loader = yaml.SafeLoader(text)
    try:
        return _Builder(loader, max_depth, max_nodes).run()
    finally:
        loader.dispose()
