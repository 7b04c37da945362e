"""The spec: loading YAML/JSON, strictness, messages that say what is wrong, canonical bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from worldgym import gym
from worldgym.gym.environments import example_names, example_path
from worldgym.gym.errors import NotReproducibleError, SpecError
from worldgym.gym.loading import parse_spec
from worldgym.gym.spec import EnvSpec, json_schema

RG = "0.1.25"


def _spec(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schema": "worldgym.env/1",
        "name": "demo",
        "generator": {"kind": "reasoning_gym", "dataset": "chain_sum", "reasoning_gym_version": RG},
        "verifier": {"kind": "reasoning_gym"},
    }
    base.update(overrides)
    return base


def _load(doc: dict[str, Any]) -> EnvSpec:
    return gym.load_spec(json.dumps(doc).encode())


@pytest.mark.parametrize("name", example_names())
def test_examples_load_and_validate(name: str) -> None:
    spec = gym.load_spec(example_path(name))
    assert spec.name == name
    assert spec.schema_id == gym.SCHEMA_ID


def test_there_are_examples_across_the_required_areas() -> None:
    names = set(example_names())
    assert {"arithmetic", "algebra", "logic", "puzzle", "code"} <= names
    assert len(names) >= 5


def test_yaml_and_json_give_the_same_canonical_bytes(tmp_path: Path) -> None:
    doc = _spec(description="x", max_tokens=512)
    yaml_path = tmp_path / "a.yaml"
    yaml_path.write_text(yaml.safe_dump(doc))
    reordered = dict(reversed(list(doc.items())))
    from_yaml = gym.load_spec(yaml_path)
    from_json = gym.load_spec(json.dumps(reordered, indent=4).encode())
    assert from_yaml.canonical_bytes() == from_json.canonical_bytes()
    assert from_yaml == from_json


def test_canonical_bytes_are_compact_sorted_json_with_defaults() -> None:
    canonical = _load(_spec()).canonical_bytes()
    decoded = json.loads(canonical)
    assert canonical == json.dumps(decoded, sort_keys=True, separators=(",", ":")).encode()
    assert decoded["extract"] == {"kind": "tag", "tag": "answer"}
    assert decoded["schema"] == "worldgym.env/1"
    assert gym.load_spec(canonical).canonical_bytes() == canonical


def test_unknown_field_is_rejected_naming_it() -> None:
    with pytest.raises(SpecError, match=r"colour: unknown field"):
        _load(_spec(colour="blue"))
    with pytest.raises(SpecError, match=r"verifier\.reasoning_gym\.strict: unknown field"):
        _load(_spec(verifier={"kind": "reasoning_gym", "strict": True}))


def test_unknown_kind_is_rejected_listing_known_kinds() -> None:
    with pytest.raises(SpecError, match=r"generator.*'quantum'.*'reasoning_gym'"):
        _load(_spec(generator={"kind": "quantum"}))
    with pytest.raises(SpecError, match=r"verifier.*'llm_judge'.*'python_tests'"):
        _load(_spec(verifier={"kind": "llm_judge"}))


def test_missing_fields_are_named() -> None:
    doc = _spec()
    del doc["verifier"]
    with pytest.raises(SpecError, match=r"verifier: missing"):
        _load(doc)
    with pytest.raises(
        SpecError, match=r"generator\.reasoning_gym\.reasoning_gym_version: missing"
    ):
        _load(_spec(generator={"kind": "reasoning_gym", "dataset": "chain_sum"}))


def test_other_schema_versions_are_rejected() -> None:
    with pytest.raises(SpecError, match=r"schema: .*worldgym.env/1"):
        _load(_spec(schema="worldgym.env/2"))


def test_reasoning_gym_version_mismatch_names_both_versions() -> None:
    doc = _spec(
        generator={
            "kind": "reasoning_gym",
            "dataset": "chain_sum",
            "reasoning_gym_version": "0.1.19",
        }
    )
    with pytest.raises(NotReproducibleError, match=r"0\.1\.19.*0\.1\.25"):
        _load(doc)
    assert gym.load_spec(json.dumps(doc).encode(), check=False).name == "demo"


def test_unknown_dataset_suggests_close_names() -> None:
    doc = _spec(
        generator={"kind": "reasoning_gym", "dataset": "chain_sums", "reasoning_gym_version": RG}
    )
    with pytest.raises(SpecError, match=r"no dataset 'chain_sums'.*did you mean chain_sum"):
        _load(doc)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"min_termz": 2}, r"unknown field\(s\) \['min_termz'\].*known: .*min_terms"),
        ({"seed": 4}, r"\['seed'\] are set by the protocol"),
        ({"min_terms": 0}, r"config is invalid for dataset 'chain_sum'"),
    ],
)
def test_bad_dataset_config_is_rejected(config: dict[str, Any], message: str) -> None:
    generator = {
        "kind": "reasoning_gym",
        "dataset": "chain_sum",
        "reasoning_gym_version": RG,
        "config": config,
    }
    with pytest.raises(SpecError, match=message):
        _load(_spec(generator=generator))


def test_reasoning_gym_composite_is_refused_in_favour_of_ours() -> None:
    generator = {"kind": "reasoning_gym", "dataset": "composite", "reasoning_gym_version": RG}
    with pytest.raises(SpecError, match=r"kind 'composite'"):
        _load(_spec(generator=generator))


def test_python_functions_unknown_version_and_family() -> None:
    code = {"extract": {"kind": "code_block"}, "verifier": {"kind": "python_tests"}}
    with pytest.raises(NotReproducibleError, match=r"version 9 is not implemented.*\[1\]"):
        _load(_spec(generator={"kind": "python_functions", "version": 9}, **code))
    with pytest.raises(SpecError, match=r"unknown \['quicksort'\]"):
        _load(
            _spec(
                generator={"kind": "python_functions", "version": 1, "families": ["quicksort"]},
                **code,
            )
        )


def test_verifier_must_fit_the_generator() -> None:
    with pytest.raises(SpecError, match=r"'python_tests' cannot score tasks from .*reasoning_gym"):
        _load(_spec(verifier={"kind": "python_tests"}))
    with pytest.raises(SpecError, match=r"'math' cannot score tasks from .*python_functions"):
        _load(
            _spec(generator={"kind": "python_functions", "version": 1}, verifier={"kind": "math"})
        )


def test_prompt_user_template_needs_the_question() -> None:
    with pytest.raises(SpecError, match=r"prompt\.user: .*\{question\}"):
        _load(_spec(prompt={"user": "no placeholder"}))


def test_dangerous_regexes_are_refused() -> None:
    with pytest.raises(SpecError, match=r"exponential"):
        _load(_spec(verifier={"kind": "regex", "pattern": "(a+)+$"}))
    with pytest.raises(SpecError, match=r"exponential"):
        _load(_spec(extract={"kind": "regex", "pattern": r"(\w+)\1"}))
    with pytest.raises(SpecError, match=r"not a valid regular expression"):
        _load(_spec(verifier={"kind": "regex", "pattern": "(unclosed"}))
    assert (
        _load(_spec(verifier={"kind": "regex", "pattern": r"\s*{answer}\.?"})).verifier.kind
        == "regex"
    )


def test_composite_weights_must_be_positive_and_parts_nonempty() -> None:
    leaf = {"kind": "reasoning_gym", "dataset": "chain_sum", "reasoning_gym_version": RG}
    with pytest.raises(SpecError, match=r"weight: Input should be greater than 0"):
        _load(_spec(generator={"kind": "composite", "parts": [{"weight": 0, "generator": leaf}]}))
    with pytest.raises(SpecError, match=r"parts: List should have at least 1 item"):
        _load(_spec(generator={"kind": "composite", "parts": []}))
    nested = {"kind": "composite", "parts": [{"weight": 1, "generator": leaf}]}
    with pytest.raises(SpecError, match=r"does not match any of the expected tags"):
        _load(_spec(generator={"kind": "composite", "parts": [{"weight": 1, "generator": nested}]}))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"a spec is a mapping"),
        (b"- 1\n- 2\n", r"a spec is a mapping of fields, got list"),
        (b"name: [unclosed", r"neither valid JSON nor valid YAML"),
        (b'{"name": 1', r"spec is not JSON: Expecting ',' delimiter at line 1"),
        (b"\xff\xfe\x00", r"not UTF-8"),
        (b"name: a\nname: b\n", r"duplicate key 'name'"),
        (b'{"name": "a", "name": "b"}', r"duplicate key 'name'"),
        (b"x: " + b"a" * (1 << 20), r"the limit is"),
    ],
)
def test_malformed_documents_say_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        gym.load_spec(data)


def test_unreadable_path_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"cannot read spec"):
        gym.load_spec(tmp_path / "missing.yaml")


def test_json_schema_describes_the_spec() -> None:
    schema = json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False
    assert {"schema", "name", "generator", "verifier"} <= set(schema["required"])
    kinds = json.dumps(schema)
    for kind in ("reasoning_gym", "python_functions", "composite", "python_tests", "math", "boxed"):
        assert f'"{kind}"' in kinds


def test_parse_spec_accepts_a_mapping() -> None:
    assert parse_spec(_spec()).name == "demo"


def test_completion_limit_defaults_to_32_chars_per_token() -> None:
    assert _load(_spec(max_tokens=100)).completion_char_limit == 3200
    assert _load(_spec(max_completion_chars=10)).completion_char_limit == 10


@pytest.mark.parametrize("name", example_names())
def test_examples_validate_against_the_exported_schema(name: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    document = yaml.safe_load(example_path(name).read_text())
    jsonschema.validate(document, json_schema())
