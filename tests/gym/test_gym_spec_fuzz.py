"""Spec fuzz campaign: every generated malformed spec is refused with a reason, in time, no crash.

Like ``tests/validator/test_validator_fuzz.py`` for batches. The malformed specs
come from ``spec_mutations.py`` (structure mutations refused by the schema or
the machine checks; byte mutations refused by the bounded parsers). Each is
loaded exactly as a validator loads a spec from chain (``load_spec`` with the
machine checks) and must raise :class:`SpecError` with a message within
:data:`DEADLINE_S` of CPU time (the test machine is shared: wall time would
measure the neighbours; :data:`WALL_S` still bounds it); anything else, a hang
or a crash fails the test.

A fast subset runs by default; ``WORLDGYM_SPEC_FUZZ_EXAMPLES=10000`` runs the
full campaign, and ``WORLDGYM_SPEC_FUZZ_REPORT=path.json`` writes its counts
(``bench/spec_fuzz.py`` does both).
"""

from __future__ import annotations

import collections
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from spec_mutations import malformed_spec

from worldgym.gym.environment import load_spec
from worldgym.gym.errors import SpecError

EXAMPLES = int(os.environ.get("WORLDGYM_SPEC_FUZZ_EXAMPLES", "300"))
REPORT = os.environ.get("WORLDGYM_SPEC_FUZZ_REPORT")
DEADLINE_S = 10.0
WALL_S = 60.0
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
    database=None,
)  # fmt: skip


class Tally:
    """What the campaign saw: counts per mutation kind, slowest load, a reason per kind."""

    def __init__(self) -> None:
        self.kinds: collections.Counter[str] = collections.Counter()
        self.slowest = (0.0, "")
        self.reasons: dict[str, str] = {}

    def add(self, kind: str, seconds: float, reason: str) -> None:
        self.kinds[kind] += 1
        self.slowest = max(self.slowest, (seconds, kind))
        self.reasons.setdefault(kind, reason[:200])


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    seen = Tally()
    yield seen
    if REPORT:
        Path(REPORT).write_text(
            json.dumps(
                {
                    "specs": sum(seen.kinds.values()),
                    "refused": sum(seen.kinds.values()),
                    "crashes": 0,
                    "slowest_cpu_s": round(seen.slowest[0], 3),
                    "slowest_kind": seen.slowest[1],
                    "by_kind": dict(sorted(seen.kinds.items())),
                    "example_reasons": seen.reasons,
                },
                indent=2,
            )
        )


@FUZZ
@given(case=malformed_spec())
def test_every_malformed_spec_is_refused_with_a_reason(
    case: tuple[str, bytes], tally: Tally
) -> None:
    kind, data = case
    start, wall = time.process_time(), time.perf_counter()
    with pytest.raises(SpecError) as refused:
        load_spec(data)
    seconds = time.process_time() - start
    reason = str(refused.value)
    assert reason.strip(), f"{kind}: refused without a reason"
    assert seconds < DEADLINE_S, f"{kind}: took {seconds:.1f} s of CPU"
    assert time.perf_counter() - wall < WALL_S, f"{kind}: took over {WALL_S:g} s"
    tally.add(kind, seconds, reason)
