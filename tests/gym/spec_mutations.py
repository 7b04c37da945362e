"""Hypothesis strategies for malformed ``worldgym.env/1`` specs (the spec fuzz campaign).

Every spec drawn here is malformed by construction: a required field removed,
an unknown field added, a value of a type pydantic cannot coerce, a number out
of range, an unknown kind or dataset, a config value outside its bound, a
dangerous or invalid regex, a prompt without ``{question}``, or bytes that are
not a bounded, plain JSON/YAML document (truncated, flipped, nested 100,000
deep, alias bombs, duplicate keys, NaN, huge integers, invalid UTF-8).
Used by ``tests/gym/test_gym_spec_fuzz.py`` and ``bench/spec_fuzz.py``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

__all__ = ["BASES", "KINDS", "malformed_spec"]

RG = "0.1.25"
_HEAD = {"schema": "worldgym.env/1", "name": "fuzz", "max_tokens": 256, "group_size": 4}


def _rg(dataset: str, **config: Any) -> dict[str, Any]:
    return {
        "kind": "reasoning_gym", "dataset": dataset, "reasoning_gym_version": RG, "config": config
    }  # fmt: skip


BASES: list[dict[str, Any]] = [
    {**_HEAD, "generator": _rg("chain_sum", min_terms=2, max_terms=4),
     "verifier": {"kind": "reasoning_gym"}},
    {**_HEAD, "generator": _rg("basic_arithmetic", min_terms=2, max_terms=3),
     "extract": {"kind": "regex", "pattern": r"Answer:\s*(-?\d+)", "group": 1},
     "verifier": {"kind": "exact", "normalize": True}},
    {**_HEAD, "generator": _rg("spell_backward"),
     "verifier": {"kind": "regex", "pattern": r"\s*{answer}\.?", "ignore_case": True}},
    {**_HEAD, "generator": _rg("simple_equations"), "extract": {"kind": "boxed"},
     "verifier": {"kind": "math", "float_rounding": 4}, "sampling": {"temperature": 0.7}},
    {**_HEAD, "generator": {"kind": "composite", "parts": [
        {"weight": 2, "generator": _rg("chain_sum")},
        {"weight": 1, "generator": _rg("letter_counting", min_words=3)}]},
     "verifier": {"kind": "reasoning_gym"}},
    {**_HEAD, "generator": {"kind": "python_functions", "version": 1, "tests_per_task": 3},
     "extract": {"kind": "code_block"}, "verifier": {"kind": "python_tests", "timeout_s": 5}},
]  # fmt: skip

_JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)  # fmt: skip
_JSON = st.recursive(
    _JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
_NOT_STRING = st.one_of(
    st.integers(), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(), st.integers()),
    st.none(), st.booleans(),
)  # fmt: skip
_NOT_NUMBER = st.one_of(
    st.text(alphabet="xyz", min_size=1), st.lists(st.integers(), max_size=2), st.none(),
    st.dictionaries(st.text(), st.integers()),
)  # fmt: skip
_BAD_REGEX = st.one_of(
    st.sampled_from([
        "(a+)+$", r"(\w+)*x", r"(\d+,)*\d+", "(a|aa)+", "(a|a)*b", r"(\w+)\1", "(unclosed",
        "[z-a]", "a{2,1}", "(?P<x>a)(?P=x)", "(?:{answer}|1)+", "[{answer}]", r"\{answer}",
        "(?<=a+)b", "*a", "(?:(?:a*)*)*", r"(?:\s*\S+)+", "\ue000",
    ]),
    st.builds(lambda inner: f"({inner}+)+", st.sampled_from(["a", r"\d", r"\w", ".", "[ab]"])),
    st.builds(lambda inner: f"({inner}|{inner}{inner})*z", st.sampled_from(["a", "1", "ab"])),
)  # fmt: skip
_UNKNOWN_DATASET = st.from_regex(r"\A[a-z_]{3,20}\Z").filter(lambda name: name not in _datasets())


def _datasets() -> frozenset[str]:
    from reasoning_gym.factory import DATASETS

    return frozenset(DATASETS)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in ``node`` (dict keys, list indices), parents first."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((*prefix, index))
            out.extend(_paths(value, (*prefix, index)))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


REQUIRED = [("schema",), ("name",), ("generator",), ("verifier",), ("generator", "kind")]
_NUMBER_LIMITS: dict[str, list[Any]] = {
    "max_tokens": [0, -1, 32_769, 10**12], "group_size": [0, 1, 65], "tests_per_task": [0, 65],
    "temperature": [-0.1, 2.5, 1e300], "top_p": [0, -1, 1.5], "timeout_s": [0, 121, -5],
    "max_completion_chars": [0, 16_000_001], "float_rounding": [-1, 13], "weight": [0, -2],
    "group": [-1, 100], "max_answer_chars": [0, 10**9], "version": [0, -1, 99],
}  # fmt: skip
_BAD_CONFIGS: list[dict[str, Any]] = [
    {"min_terms": 3_000_000, "max_terms": 3_000_000}, {"max_digits": 10**9},
    {"operators": ["**"]}, {"format_style": "x" * 50}, {"seed": 1}, {"size": 2},
    {"min_termz": 3}, {"max_terms": "6"}, {"allow_parentheses": "yes"},
    {"max_terms": 1e300}, {"whitespace": ["no"]}, {"operators": []},
]  # fmt: skip
_STRING_FIELDS = {"schema", "name", "description", "dataset", "reasoning_gym_version", "kind",
                  "pattern", "system", "user", "tag", "language"}  # fmt: skip


@st.composite
def _structural(draw: st.DrawFn, base: dict[str, Any]) -> tuple[str, Any]:
    """A document-level mutation that pydantic or the machine checks must refuse."""
    doc = copy.deepcopy(base)
    paths = _paths(doc)
    kind = draw(st.sampled_from(
        ["drop", "unknown", "string", "number", "range", "kind", "dataset", "config", "regex",
         "prompt", "schema", "name"]
    ))  # fmt: skip
    if kind == "drop":
        path = draw(st.sampled_from([p for p in REQUIRED if _has(doc, p)]))
        del _parent(doc, path)[path[-1]]
    elif kind == "unknown":
        objects = [()] + [p for p in paths if isinstance(_get(doc, p), dict) and p[-1] != "config"]
        target = _get(doc, draw(st.sampled_from(objects)))
        target[draw(st.sampled_from(["extra", "kindd", "Name", "seeds", "config2"]))] = draw(_JSON)
    elif kind == "string":
        choices = [p for p in paths if p[-1] in _STRING_FIELDS and isinstance(_get(doc, p), str)]
        path = draw(st.sampled_from(choices))
        _parent(doc, path)[path[-1]] = draw(_NOT_STRING)
    elif kind in ("number", "range"):
        choices = [p for p in paths if p[-1] in _NUMBER_LIMITS]
        if not choices:
            doc["max_tokens"] = draw(st.sampled_from(_NUMBER_LIMITS["max_tokens"]))
        else:
            path = draw(st.sampled_from(choices))
            bad = _NOT_NUMBER if kind == "number" else st.sampled_from(_NUMBER_LIMITS[path[-1]])
            _parent(doc, path)[path[-1]] = draw(bad)
    elif kind == "kind":
        path = draw(st.sampled_from([p for p in paths if p[-1] == "kind"]))
        _parent(doc, path)[path[-1]] = draw(st.sampled_from(["regexp", "", "Tag", "sandbox"]))
    elif kind == "dataset":
        doc["generator"] = _rg(draw(_UNKNOWN_DATASET))
    elif kind == "config":
        doc["generator"] = _rg("basic_arithmetic", **draw(st.sampled_from(_BAD_CONFIGS)))
    elif kind == "regex":
        where = draw(st.sampled_from(["extract", "verifier"]))
        doc[where] = {"kind": "regex", "pattern": draw(_BAD_REGEX)}
        if where == "verifier" and doc["generator"]["kind"] == "python_functions":
            doc["generator"] = _rg("chain_sum")
    elif kind == "prompt":
        doc["prompt"] = {"user": draw(st.text(max_size=40).filter(lambda t: "{question}" not in t))}
    elif kind == "schema":
        doc["schema"] = draw(st.sampled_from(["worldgym.env/2", "worldgym.env/1 ", "", "env"]))
    else:
        doc["name"] = draw(st.sampled_from(["", "Upper", "-dash", "a" * 65, "sp ace", "é"]))
    return f"structure:{kind}", json.dumps(doc).encode()


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _has(doc: Any, path: tuple[Any, ...]) -> bool:
    try:
        _get(doc, path)
    except (KeyError, IndexError, TypeError):
        return False
    return True


ALIAS_BOMB = b'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + b"".join(
    b"%c: &%c [%s]\n" % (n, n, b",".join([b"*" + bytes([n - 1])] * 9)) for n in range(98, 106)
)


@st.composite
def _textual(draw: st.DrawFn, base: dict[str, Any]) -> tuple[str, bytes]:
    """A byte-level mutation: the document itself is not bounded, plain JSON or YAML."""
    data = json.dumps(base).encode()
    kind = draw(st.sampled_from(
        ["truncate", "deep-json", "deep-yaml", "alias", "duplicate", "nan", "bigint", "utf8",
         "not-mapping", "yaml-tag", "two-docs"]
    ))  # fmt: skip
    if kind == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif kind == "deep-json":
        depth = draw(st.integers(33, 100_000))
        data = data[:-1] + b', "x": ' + b"[" * depth + b"]" * draw(st.integers(0, depth)) + b"}"
    elif kind == "deep-yaml":
        data = b"name: " + b"[" * draw(st.integers(33, 100_000))
    elif kind == "alias":
        data = ALIAS_BOMB if draw(st.booleans()) else b"schema: &s worldgym.env/1\nname: *s\n"
    elif kind == "duplicate":
        data = b'{"name": "a", ' + data[1:]
    elif kind == "nan":
        data = data[:-1] + b', "max_tokens": ' + draw(st.sampled_from([b"NaN", b"Infinity"])) + b"}"
    elif kind == "bigint":
        data = data[:-1] + b', "max_tokens": ' + b"9" * draw(st.integers(4301, 20_000)) + b"}"
    elif kind == "utf8":
        broken = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80"]))
        data = data[:10] + broken + data[10:]
    elif kind == "not-mapping":
        data = draw(st.sampled_from([b"[]", b"42", b'"spec"', b"null", b"- a\n- b\n", b""]))
    elif kind == "yaml-tag":
        data = b"schema: !!python/object/apply:os.system ['true']\nname: x\n"
    else:
        data = b"schema: worldgym.env/1\n---\nname: x\n"
    return f"bytes:{kind}", data


KINDS = ("structure", "bytes")


@st.composite
def malformed_spec(draw: st.DrawFn) -> tuple[str, bytes]:
    """(what was done, the spec's bytes): a spec that must be refused with a reason."""
    base = draw(st.sampled_from(BASES))
    if draw(st.booleans()):
        return draw(_structural(base))
    return draw(_textual(base))
