"""Manifests and metrics read by CID are parsed in bounded time and memory, whatever the stack.

The hostile documents are read in a child interpreter that imported web3
first (recursion limit 100,000, as in every validator): a parser that still
recursed per nesting level would kill it with a signal.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worldgym.storage import LocalStore
from worldgym.storage.bounded_json import JSONLimitError, check_nesting, loads_bounded
from worldgym.storage.documents import DocumentError, read_document

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "worldgym.checkpoint/1"


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def test_a_document_round_trips(store: LocalStore) -> None:
    data = json.dumps({"schema": SCHEMA, "files": [{"path": "a", "size": 1}]}).encode()
    cid = store.put_bytes(data)
    document, raw = read_document(
        store, cid, SCHEMA, max_bytes=1 << 20, what="checkpoint manifest", noun="manifest"
    )
    assert raw == data
    assert document["files"][0]["path"] == "a"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"[" * 50_000 + b"]" * 50_000, "nested deeper than 32 levels"),
        (b'{"schema": "worldgym.checkpoint/1", "x": ' + b"{" * 40, "nested deeper than 32 levels"),
        (b'{"schema": "worldgym.checkpoint/1", "x": NaN}', "NaN is not a JSON number"),
        (b'{"schema": "worldgym.checkpoint/1", "x": ' + b"7" * 5000 + b"}", "not plain JSON"),
        (b"\xff\xfe", "not UTF-8 text"),
        (b'{"schema": "worldgym.checkpoint/1"', "is not JSON"),
    ],
)
def test_hostile_documents_are_refused_with_a_reason(
    store: LocalStore, data: bytes, reason: str
) -> None:
    cid = store.put_bytes(data)
    with pytest.raises(DocumentError, match=reason):
        read_document(store, cid, SCHEMA, max_bytes=1 << 20, what="checkpoint manifest", noun="x")


_CHILD = """
import sys, time
import web3  # recursion limit 100,000
from worldgym.storage.bounded_json import JSONLimitError, loads_bounded
for depth in (10_000, 100_000, 1_000_000):
    for data in (b"[" * depth, b"[" * depth + b"]" * depth, b'{"a":' * depth):
        start = time.perf_counter()
        try:
            loads_bounded(data, max_bytes=8 << 20, max_depth=32)
            print("ACCEPTED", depth)
        except JSONLimitError as exc:
            assert "nested deeper" in str(exc), exc
        assert time.perf_counter() - start < 5
print("ok", sys.getrecursionlimit())
"""


def test_deep_nesting_cannot_crash_a_process_with_a_raised_recursion_limit() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, cwd=ROOT, timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"child died ({done.returncode}): {done.stderr[-1500:]}"
    assert done.stdout.strip() == "ok 100000"


def test_an_unterminated_string_costs_one_pass() -> None:
    """Quotes that never close must not be rescanned from each one (quadratic)."""
    data = b'["' + b'\\"' * 2_000_000
    start = time.perf_counter()
    with pytest.raises(JSONLimitError, match="not JSON"):
        loads_bounded(data, max_bytes=8 << 20)
    assert time.perf_counter() - start < 2


def test_duplicate_keys_are_refused_on_request() -> None:
    assert loads_bounded(b'{"a": 1, "a": 2}', max_bytes=100) == {"a": 2}
    with pytest.raises(JSONLimitError, match="duplicate key 'a'"):
        loads_bounded(b'{"a": 1, "a": 2}', max_bytes=100, unique_keys=True)


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=300, derandomize=True)
@given(value=_VALUES, limit=st.integers(0, 6))
def test_the_nesting_check_agrees_with_the_parsed_depth(value: object, limit: int) -> None:
    data = json.dumps(value).encode()
    if _depth(value) > limit:
        with pytest.raises(JSONLimitError, match="nested deeper"):
            check_nesting(data, limit)
    else:
        check_nesting(data, limit)
        assert loads_bounded(data, max_bytes=1 << 20, max_depth=limit) == value
