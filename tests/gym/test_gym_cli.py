"""``worldgym env`` offline commands through Typer's CliRunner: exit codes and output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from worldgym.cli.env import app
from worldgym.gym.environments import example_path

runner = CliRunner()
SEED = "0x" + "aa" * 32
MINER = "0x" + "bb" * 20
DERIVE = ["--seed", SEED, "--env", "4", "--version", "2", "--miner", MINER]


def _ok(args: list[str], stdin: str | None = None) -> str:
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_init_writes_a_valid_starter_spec(tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    out = _ok(["init", "my-env", "--output", str(target)])
    assert "wrote" in out
    assert "name: my-env" in target.read_text()
    assert json.loads(_ok(["validate", str(target), "--json"]))["name"] == "my-env"


def test_init_refuses_to_overwrite_and_bad_names(tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    target.write_text("keep me")
    result = runner.invoke(app, ["init", "my-env", "-o", str(target)])
    assert result.exit_code == 2
    assert "--force" in result.output
    assert target.read_text() == "keep me"
    assert runner.invoke(app, ["init", "Bad Name", "-o", str(tmp_path / "x.yaml")]).exit_code == 2
    assert (
        runner.invoke(
            app, ["init", "ok", "--from", "nope", "-o", str(tmp_path / "y.yaml")]
        ).exit_code
        == 2
    )


def test_init_from_the_code_example(tmp_path: Path) -> None:
    target = tmp_path / "c.yaml"
    _ok(["init", "my-code", "--from", "code", "-o", str(target)])
    assert "python_tests" in _ok(["validate", str(target)])


def test_validate_reports_problems_with_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(example_path("arithmetic").read_text().replace("max_tokens:", "max_tokenz:"))
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "max_tokenz: unknown field" in result.output
    result = runner.invoke(app, ["validate", str(bad), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["valid"] is False


def test_validate_names_both_versions(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(example_path("arithmetic").read_text().replace('"0.1.25"', '"0.1.20"'))
    result = runner.invoke(app, ["validate", str(old)])
    assert result.exit_code == 1
    assert "0.1.20" in result.output
    assert "0.1.25" in result.output


def test_schema_prints_json_schema(tmp_path: Path) -> None:
    schema = json.loads(_ok(["schema"]))
    assert schema["$schema"].startswith("https://json-schema.org/")
    _ok(["schema", "-o", str(tmp_path / "s.json")])
    assert json.loads((tmp_path / "s.json").read_text()) == schema


def test_examples_lists_the_shipped_specs() -> None:
    out = _ok(["examples"])
    assert "arithmetic" in out
    assert "code" in out


def test_tasks_json_hides_answers_unless_asked() -> None:
    spec = str(example_path("arithmetic"))
    rows = json.loads(_ok(["tasks", spec, *DERIVE, "--count", "3", "--json"]))
    assert [row["index"] for row in rows] == ["0", "1", "2"]
    assert all("answer" not in row for row in rows)
    assert rows[0]["prompt"][1]["content"] == rows[0]["question"]
    with_answers = json.loads(
        _ok(["tasks", spec, *DERIVE, "--count", "3", "--json", "--with-answers"])
    )
    assert all(row["answer"] for row in with_answers)
    assert [r["task_seed"] for r in rows] == [r["task_seed"] for r in with_answers]


def test_tasks_accepts_hex_start_and_human_output() -> None:
    spec = str(example_path("words"))
    start = hex(2**255)
    rows = json.loads(_ok(["tasks", spec, *DERIVE, "--count", "1", "--start", start, "--json"]))
    assert rows[0]["index"] == str(2**255)
    human = _ok(["tasks", spec, *DERIVE, "--count", "2", "--with-answers"])
    assert "task 0" in human
    assert "answer:" in human


@pytest.mark.parametrize(
    "args",
    [
        ["--seed", "0x12", "--env", "1", "--version", "1", "--miner", MINER],
        ["--seed", SEED, "--env", "1", "--version", "1", "--miner", "alice"],
        ["--seed", SEED, "--env", "-1", "--version", "1", "--miner", MINER],
    ],
)
def test_tasks_bad_input_exits_non_zero(args: list[str]) -> None:
    result = runner.invoke(app, ["tasks", str(example_path("arithmetic")), *args])
    assert result.exit_code == 2


def test_tasks_missing_spec_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["tasks", str(tmp_path / "none.yaml"), *DERIVE])
    assert result.exit_code == 2
    assert "cannot read spec" in result.output


def _answer(index: int) -> str:
    spec = str(example_path("arithmetic"))
    args = [
        "tasks",
        spec,
        *DERIVE,
        "--count",
        "1",
        "--start",
        str(index),
        "--json",
        "--with-answers",
    ]
    return str(json.loads(_ok(args))[0]["answer"])


def test_score_exits_zero_whatever_the_score() -> None:
    spec = str(example_path("arithmetic"))
    answer = _answer(1)
    right = json.loads(
        _ok(
            [
                "score",
                spec,
                *DERIVE,
                "--index",
                "1",
                "--completion",
                f"<answer>{answer}</answer>",
                "--json",
            ]
        )
    )
    assert right == {"index": "1", "score": 1.0, "reason": right["reason"], "extracted": answer}
    wrong = json.loads(
        _ok(["score", spec, *DERIVE, "--index", "1", "--completion", "no idea", "--json"])
    )
    assert wrong["score"] == 0.0
    assert "no answer found" in wrong["reason"]
    assert "score 0" in _ok(["score", spec, *DERIVE, "--index", "1", "--completion", ""])


def test_score_reads_completions_from_files_and_stdin(tmp_path: Path) -> None:
    spec = str(example_path("arithmetic"))
    answer = _answer(0)
    path = tmp_path / "completion.txt"
    path.write_text(f"<answer>{answer}</answer>")
    from_file = json.loads(
        _ok(["score", spec, *DERIVE, "--index", "0", "--completion-file", str(path), "--json"])
    )
    assert from_file["score"] == 1.0
    from_stdin = json.loads(
        _ok(
            ["score", spec, *DERIVE, "--index", "0", "--completion-file", "-", "--json"],
            stdin=f"<answer>{answer}</answer>",
        )
    )
    assert from_stdin["score"] == 1.0


@pytest.mark.parametrize(
    "extra",
    [
        ["--index", "x", "--completion", "a"],
        ["--index", str(2**256), "--completion", "a"],
        ["--index", "0"],
        ["--index", "0", "--completion", "a", "--completion-file", "-"],
        ["--index", "0", "--completion-file", "/nonexistent/file"],
    ],
)
def test_score_bad_input_exits_2(extra: list[str]) -> None:
    result = runner.invoke(app, ["score", str(example_path("arithmetic")), *DERIVE, *extra])
    assert result.exit_code == 2
