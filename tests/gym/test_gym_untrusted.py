"""Issue 16's attacks on spec loading, regexes and generator configs: refused, in time, no crash.

The parsing attacks run in a child interpreter that imported web3 first, as a
validator has: py_ecc raises the recursion limit to 100,000 there, so anything
that still recursed once per nesting level would overflow the C stack and the
child would die by a signal instead of answering.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from worldgym import gym
from worldgym.gym.errors import SpecError
from worldgym.gym.extract import make_extractor
from worldgym.gym.regexes import RUN_TIMEOUT_S, RegexTimeoutError, compile_pattern, full_match
from worldgym.gym.spec import RegexExtract

ROOT = Path(__file__).resolve().parents[2]
RG = "0.1.25"

ALIAS_BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

# name -> (spec bytes, what the reason must say)
PARSING_ATTACKS: dict[str, tuple[bytes, str]] = {
    "json-100k-nested": (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 32"),
    "json-nested-in-a-spec": (b'{"schema": ' + b"[" * 100_000, "nested deeper than 32"),
    "json-unterminated-quotes": (b'{"a": "' + b'\\"' * 400_000, "not JSON"),
    "json-nan": (b'{"schema": "worldgym.env/1", "x": NaN}', "NaN is not a JSON number"),
    "json-long-integer": (b'{"max_tokens": ' + b"9" * 5000 + b"}", "not plain JSON"),
    "yaml-100k-nested": (b"a: " + b"[" * 100_000, "nested deeper than 32"),
    "yaml-block-nested": (
        b"".join(b" " * i + b"- \n" for i in range(1400)),
        "nested deeper than 32",
    ),
    "yaml-alias-bomb": (ALIAS_BOMB, "anchors (&a) are not allowed"),
    "yaml-alias": (b"x: *a\n", "aliases (*a) are not allowed"),
    "yaml-python-tag": (b"a: !!python/object/apply:os.system ['id']\n", "is not allowed"),
    "yaml-merge-key": (b"a: {x: 1}\nb:\n  <<: {y: 2}\n", "merge values are not allowed"),
    "yaml-many-values": (b"".join(b"- %d\n" % i for i in range(100_000)), "more than 20,000"),
    "yaml-two-documents": (b"a: 1\n---\nb: 2\n", "one YAML document"),
}

_CHILD = """
import json, sys, time
import web3  # raises the recursion limit to 100,000, as in every validator
from worldgym.gym.errors import SpecError
from worldgym.gym.environment import load_spec
out = {"recursion_limit": [sys.getrecursionlimit()]}
for name, data in json.loads(sys.stdin.read()).items():
    start = time.perf_counter()
    try:
        load_spec(data.encode("latin-1"), check=False)
        verdict = "accepted"
    except SpecError as exc:
        verdict = "SpecError: " + str(exc)
    out[name] = [verdict, time.perf_counter() - start]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def parsed() -> dict[str, list[object]]:
    cases = {name: data.decode("latin-1") for name, (data, _) in PARSING_ATTACKS.items()}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], input=json.dumps(cases), capture_output=True, text=True,
        cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"the child died ({done.returncode}): {done.stderr[-2000:]}"
    reply: dict[str, list[object]] = json.loads(done.stdout)
    return reply


def test_the_child_has_the_validator_s_recursion_limit(parsed: dict[str, list[object]]) -> None:
    assert parsed["recursion_limit"] == [100_000]


@pytest.mark.parametrize("name", sorted(PARSING_ATTACKS))
def test_a_hostile_spec_is_refused_in_time(name: str, parsed: dict[str, list[object]]) -> None:
    verdict, seconds = parsed[name]
    assert str(verdict).startswith("SpecError: "), verdict
    assert PARSING_ATTACKS[name][1] in str(verdict)
    assert isinstance(seconds, float)
    assert seconds < 3.0


def test_specs_from_the_network_must_be_json() -> None:
    yaml_spec = (ROOT / "worldgym/gym/environments/arithmetic.yaml").read_bytes()
    assert gym.load_spec(yaml_spec, check=False).name == "arithmetic"
    with pytest.raises(SpecError, match="not JSON"):
        gym.load_spec(yaml_spec, check=False, json_only=True)


def test_a_spec_file_is_not_read_past_the_limit(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="the limit is 1,048,576"):
        gym.load_spec(Path("/dev/zero"))


# --------------------------------------------------------------------------- regexes


def _spec(**fields: object) -> bytes:
    spec = {
        "schema": "worldgym.env/1",
        "name": "attack",
        "generator": {"kind": "reasoning_gym", "dataset": "chain_sum", "reasoning_gym_version": RG},
        "verifier": {"kind": "reasoning_gym"},
        **fields,
    }
    return json.dumps(spec).encode()


def test_an_answer_alternative_in_a_repeat_is_refused() -> None:
    """``(?:{answer}|1)+`` looked safe with ``x`` for the answer; a reference ``1`` explodes."""
    with pytest.raises(SpecError, match="alternatives that can overlap inside a repeat"):
        gym.load_spec(_spec(verifier={"kind": "regex", "pattern": "(?:{answer}|1)+"}))
    with pytest.raises(SpecError, match="inside a character class"):
        gym.load_spec(_spec(verifier={"kind": "regex", "pattern": "[{answer}]+"}))


@pytest.mark.parametrize(
    ("field", "pattern"),
    [
        ("extract", r".*x.*y"),
        ("extract", r"[a-z]+\d+[a-z]+!"),
        ("verifier", r"\d*\d*\d*\d*\d*\d*{answer}"),
    ],
)
def test_a_pattern_slow_on_long_text_is_refused_by_the_probe(field: str, pattern: str) -> None:
    kind = {"kind": "regex", "pattern": pattern}
    start = time.perf_counter()
    with pytest.raises(SpecError, match=f"{field}.pattern: .* took over 100 ms"):
        gym.load_spec(_spec(**{field: kind}))
    assert time.perf_counter() - start < 10


def test_the_issue_s_polynomial_extraction_pattern_is_now_cheap() -> None:
    """``a*a*a*a*a*a*a*a*b`` cost 2 s per completion with ``re``; the regex engine avoids it."""
    extract = make_extractor(RegexExtract(kind="regex", pattern="a*a*a*a*a*a*a*a*b", group=0))
    for completion in ("a" * 60_000, "a" * 60_000 + "c", "b" + "a" * 60_000):
        start = time.perf_counter()
        extract(completion)
        assert time.perf_counter() - start < 0.5


def test_matching_has_a_deadline_in_any_thread() -> None:
    """A catastrophic pattern (built directly, past the shape check) stops in a worker thread."""
    compiled = compile_pattern("(?:1|1)+x", "", ignore_case=False, dotall=False)
    outcome: list[object] = []

    def worker() -> None:
        start = time.process_time()  # the engine's clock: CPU time, so load does not matter
        try:
            full_match(compiled, "1" * 64)
            outcome.append("finished")
        except RegexTimeoutError:
            outcome.append(time.process_time() - start)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert isinstance(outcome[0], float)
    assert outcome[0] < RUN_TIMEOUT_S + 0.5


def test_the_reference_is_always_one_literal() -> None:
    """Braces, commas, backslashes in a reference cannot make a quantifier or an escape."""
    compiled = compile_pattern("x{{answer}}", "1,9999", ignore_case=False, dotall=False)
    assert full_match(compiled, "x{1,9999}")
    assert not full_match(compiled, "x" * 5)
    weird = 'a\\1(?:"é]'
    assert full_match(compile_pattern("{answer}", weird, ignore_case=False, dotall=False), weird)


# --------------------------------------------------------------------------- generator configs


def test_a_huge_generator_config_is_refused_with_the_bound() -> None:
    spec = _spec(
        generator={
            "kind": "reasoning_gym", "dataset": "basic_arithmetic", "reasoning_gym_version": RG,
            "config": {"min_terms": 3_000_000, "max_terms": 3_000_000},
        }
    )  # fmt: skip
    with pytest.raises(SpecError, match=r"generator\.config\.max_terms: must lie in \[-"):
        gym.load_spec(spec)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"data_file": "../../../../etc/passwd"}, "names a file the dataset reads"),
        ({"min_word_len": True}, "must be an integer"),
        ({"max_word_len": 1e300}, "must be an integer"),
    ],
)
def test_config_values_outside_what_the_dataset_understands(
    config: dict[str, object], message: str
) -> None:
    spec = _spec(
        generator={
            "kind": "reasoning_gym", "dataset": "spell_backward", "reasoning_gym_version": RG,
            "config": config,
        },
        verifier={"kind": "exact"},
    )  # fmt: skip
    with pytest.raises(SpecError, match=message):
        gym.load_spec(spec)
