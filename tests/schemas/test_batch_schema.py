"""worldgym.batch/2: canonical bytes round-trip; malformed documents are rejected with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worldgym.core.canonical import canonical_json
from worldgym.core.schemas import (
    BatchDocument,
    BatchFormatError,
    _parse_checked,
    batch_json_schema,
    encode_batch,
    parse_batch,
    task_index,
)

MINER = "0x" + "ab" * 20


def _doc(tasks: int = 2, group: int = 2) -> dict[str, Any]:
    return {
        "header": {
            "schema": "worldgym.batch/2",
            "chain_id": 31337,
            "contract": "0x" + "cd" * 20,
            "epoch": 3,
            "miner": MINER,
            "env_id": 1,
            "env_version": 1,
            "sequence": 0,
            "model": {
                "id": 1,
                "digest": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
            },
            "sampling": {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 64},
            "task_count": tasks,
            "group_size": group,
        },
        "traces": [
            {
                "task": t,
                "sample": s,
                "prompt": [{"role": "user", "content": f"q{t}"}],
                "completion": "<answer>4</answer>",
                "answer": "4",
                "tokens": [1, 2, 3],
                "logprobs": [-0.5, -0.25, -1.0],
            }
            for t in range(tasks)
            for s in range(group)
        ],
    }


def _bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def test_round_trip_is_canonical() -> None:
    doc = parse_batch(_bytes(_doc()))
    assert isinstance(doc, BatchDocument)
    assert doc.trace_count == 4
    encoded = encode_batch(doc)
    assert parse_batch(encoded) == doc
    assert encode_batch(parse_batch(encoded)) == encoded
    assert b" " not in encoded.replace(b"<answer>4</answer>", b"")
    assert encoded == canonical_json(json.loads(encoded))


def test_task_index_packs_sequence_and_position() -> None:
    assert task_index(0, 5) == 5
    assert task_index(3, 5) == (3 << 32) | 5
    with pytest.raises(ValueError, match="32 bits"):
        task_index(2**32, 0)


def _mutate(path: str, value: Any) -> bytes:
    doc = _doc()
    *parents, last = path.split(".")
    node: Any = doc
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return _bytes(doc)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"header": {"schema": "worldgym.batch/2"', "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "not a worldgym.batch/2"),
        (_mutate("header.schema", "worldgym.batch/1"), "not a worldgym.batch/2"),
        (_mutate("header.epoch", "3"), "header.epoch"),
        (_mutate("header.miner", "0x1234"), "header.miner"),
        (_mutate("header.task_count", 3), "3 tasks x 2 samples = 6"),
        (_mutate("header.sampling.seed", 7), "Extra inputs"),  # v1's miner-chosen seed is gone
        (_mutate("header.group_size", 1), "header.group_size"),  # a group of one has no signal
        (_mutate("traces.1.sample", 0), "repeats task 0 sample 0"),
        (_mutate("traces.0.task", 9), "outside 2 tasks"),
        (_mutate("traces.0.logprobs", [-0.1]), "3 tokens but 1 log-probabilities"),
        (_mutate("traces.0.logprobs", [0.5, -1.0, -1.0]), "less than or equal to 0"),
        (_mutate("traces.0.completion", "x" * 300_000), "traces.0.completion"),
        (_mutate("traces.0.extra", 1), "Extra inputs"),
        (_mutate("traces.0.tokens", [1, "2", 3]), "traces.0.tokens.1"),
        (_bytes(_doc()).replace(b"-0.5", b"NaN"), "NaN is not allowed"),
        (_bytes(_doc()).replace(b"-0.5", b"-Infinity"), "-Infinity is not allowed"),
    ],
)
def test_malformed_batches_are_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(BatchFormatError, match=reason):
        parse_batch(data)


def test_size_cap_is_checked_before_parsing() -> None:
    data = _bytes(_doc())
    with pytest.raises(BatchFormatError, match="over the cap"):
        parse_batch(data, max_bytes=len(data) - 1)


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_deep_nesting_is_a_reason_not_a_crash(opener: bytes) -> None:
    # CPython's JSON decoder would overflow the C stack on this and kill the validator.
    with pytest.raises(BatchFormatError, match="nested deeper"):
        parse_batch(opener * 1_000_000)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    doc = _doc()
    doc["traces"][0]["completion"] = '[[[[[[[[[[[[[[[[[[[[ \\" {{{{{{{{{{{{{{{{{{{{{{{{{'
    assert parse_batch(_bytes(doc)).traces[0].completion == doc["traces"][0]["completion"]


def test_json_schema_names_the_format() -> None:
    schema = batch_json_schema()
    assert schema["title"] == "worldgym.batch/2"
    assert "header" in schema["properties"]


# ─── the fast path (pydantic-core's parser) never accepts what the careful one refuses ──────


def _fast(data: bytes) -> BatchDocument | None:
    try:
        return BatchDocument.model_validate_json(data)
    except ValueError:  # pydantic's ValidationError is a ValueError
        return None


def _careful(data: bytes) -> BatchDocument | None:
    try:
        return _parse_checked(data)
    except BatchFormatError:
        return None


def _agree(data: bytes) -> None:
    """Whatever the fast path accepts, the careful path accepts as the same document, and
    parse_batch answers as the careful path does."""
    fast, careful = _fast(data), _careful(data)
    if fast is not None:
        assert careful == fast, data[:300]
    if careful is None:
        with pytest.raises(BatchFormatError):
            parse_batch(data)
    else:
        assert parse_batch(data) == careful


_TRICKY = [
    b'"\\ud800"',  # a lone surrogate
    b"NaN",
    b"-Infinity",
    b"1e999",
    b"1.0",
    b'"1"',
    b"true",
    b"12345678901234567890123456789",
    b'"\xc3\x28"',  # invalid UTF-8 inside a string
    b'"\\u0000"',
]


@pytest.mark.parametrize("value", _TRICKY)
@pytest.mark.parametrize(
    "where", ['"epoch":3', '"content":"q0"', '"temperature":1.0', '"tokens":[1,2,3]', '"task":0']
)
def test_tricky_values_get_the_same_answer_on_both_paths(value: bytes, where: str) -> None:
    data = encode_batch(BatchDocument.model_validate(_doc()))
    key = where.split(":", maxsplit=1)[0].encode()
    assert where.encode() in data
    _agree(data.replace(where.encode(), key + b":" + value, 1))


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf" + _bytes(_doc()),  # a UTF-8 byte order mark
        _bytes(_doc()) + b"  \n",  # trailing whitespace
        _bytes(_doc()) + b" x",  # trailing garbage
        _bytes(_doc()).replace(b'"epoch": 3', b'"epoch": 3, "epoch": 4'),  # a duplicate key
        _bytes(_doc()).replace(b'"epoch": 3', b'"epoch": 3, "extra": 1'),  # an unknown key
    ],
)
def test_edge_documents_get_the_same_answer_on_both_paths(data: bytes) -> None:
    _agree(data)


@settings(deadline=None, max_examples=1500, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=4))
def test_byte_flips_get_the_same_answer_on_both_paths(flips: list[tuple[int, int]]) -> None:
    data = bytearray(encode_batch(BatchDocument.model_validate(_doc())))
    for position, value in flips:
        data[position % len(data)] = value
    _agree(bytes(data))
