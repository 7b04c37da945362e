"""Canonical JSON: equal documents give equal bytes, and what cannot be canonical is refused."""

from __future__ import annotations

import json

import pytest

from worldgym.core.canonical import canonical_json
from worldgym.gym.environment import load_spec
from worldgym.gym.environments import EXAMPLES_DIR


def test_keys_sorted_no_spaces_utf8() -> None:
    assert canonical_json({"b": [1, 2.5], "a": "é"}) == '{"a":"é","b":[1,2.5]}'.encode()
    assert canonical_json({"b": 1, "a": 2}) == canonical_json({"a": 2, "b": 1})


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_infinity_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical_json({"x": bad})


def test_specs_are_pinned_in_it() -> None:
    spec = load_spec(EXAMPLES_DIR / "sums.yaml", check=False)
    data = spec.canonical_bytes()
    assert data == canonical_json(json.loads(data))
