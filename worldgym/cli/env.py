"""``worldgym env ...``: the offline environment commands.

``init``, ``validate`` (with the degenerate-answer audit registration applies),
``schema`` and ``examples`` work on spec files;
``tasks`` and ``score`` derive tasks from a local spec and explicit derivation
inputs (``--seed --env --version --miner``). The on-chain commands
(register, update, list, show, and resolving an environment id plus ``--epoch``
to a spec and a seed) live with the chain client and reuse :func:`render_tasks`
and :func:`render_score`.

Exit codes: 0 success (``score`` exits 0 whatever the score), 1 a spec that
fails validation, 2 bad input (unreadable file, malformed seed or address).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from worldgym.cli.options import JsonOpt
from worldgym.cli.output import EXIT_FAILED, fail
from worldgym.client.session import Session
from worldgym.gym import registry
from worldgym.gym.audit import AUDIT_TASKS, AuditReport, audit
from worldgym.gym.environment import Environment, load_environment, load_spec
from worldgym.gym.environments import example_names, example_path
from worldgym.gym.errors import GymError, SandboxError, SpecError
from worldgym.gym.spec import SCHEMA_ID, json_schema, leaf_generators

__all__ = ["Derivation", "app", "parse_index", "render_score", "render_tasks"]

app = typer.Typer(
    name="env",
    help="Environments: write, validate and try out worldgym.env/1 specs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

_out = Console(highlight=False, soft_wrap=True, emoji=False)


SpecArg = Annotated[
    Path, typer.Argument(help="Path of a spec file (YAML or JSON).", show_default=False)
]
SpecOrIdArg = Annotated[
    str,
    typer.Argument(
        help="A spec file, or a registered environment id (then --epoch).", show_default=False
    ),
]
SeedOpt = Annotated[
    str | None,
    typer.Option("--seed", help="With a spec file: the epoch seed (0x + 64 hex digits)."),
]
EnvIdOpt = Annotated[
    int | None, typer.Option("--env", min=0, help="With a spec file: the environment's id.")
]
VersionOpt = Annotated[
    int | None, typer.Option("--version", min=0, help="The environment version (default: latest).")
]
EpochOpt = Annotated[
    int | None, typer.Option("--epoch", min=0, help="With an environment id: the epoch.")
]
MinerOpt = Annotated[str, typer.Option("--miner", help="The miner's address (0x + 40 hex digits).")]


def _environment(spec: Path) -> Environment:
    try:
        return load_environment(spec)
    except GymError as exc:
        raise fail(str(exc)) from None


def _target(
    ctx: typer.Context,
    spec: str,
    *,
    miner: str,
    epoch: int | None,
    seed: str | None,
    env_id: int | None,
    version: int | None,
) -> tuple[Environment, Derivation]:
    """The environment and derivation inputs, from a spec file or from the chain."""
    if spec.isdigit() and not Path(spec).exists():
        if epoch is None or seed is not None or env_id is not None:
            raise fail("with an environment id give --epoch (the seed comes from the chain)")
        session = ctx.find_object(Session) or Session()
        protocol = session.protocol()
        chain_seed = protocol.seed(epoch)
        if chain_seed is None:
            raise fail(f"epoch {epoch} has no seed on chain yet (it is set once the epoch starts)")
        chosen, loaded = registry.resolve(protocol, session.store(), int(spec), version)
        return load_environment(loaded), Derivation(
            "0x" + chain_seed.hex(), int(spec), chosen, miner
        )
    if seed is None or env_id is None or version is None or epoch is not None:
        raise fail("with a spec file give --seed, --env and --version (not --epoch)")
    return _environment(Path(spec)), Derivation(seed, env_id, version, miner)


def parse_index(text: str) -> int:
    """A uint256 task index from decimal or ``0x`` hex text."""
    try:
        value = int(text, 0)
    except ValueError:
        raise fail(f"index must be an integer (decimal or 0x hex), got {text!r}") from None
    if not 0 <= value < 2**256:
        raise fail(f"index must be in [0, 2**256), got {text}")
    return value


@app.command()
def init(
    name: Annotated[
        str, typer.Argument(help="Name of the new environment (lowercase, digits, . _ -).")
    ],
    example: Annotated[str, typer.Option("--from", help="Example to start from.")] = "arithmetic",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write it.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter spec NAME.yaml (a copy of an example with its name set)."""
    try:
        source = example_path(example).read_text()
    except KeyError as exc:
        raise fail(str(exc.args[0])) from None
    target = output or Path(f"{name}.yaml")
    if target.exists() and not force:
        raise fail(f"{target} exists; pass --force to overwrite it")
    lines = source.splitlines()
    text = (
        "\n".join(f"name: {name}" if line.startswith("name: ") else line for line in lines) + "\n"
    )
    try:
        load_spec(text.encode(), check=False)
    except SpecError as exc:
        raise fail(str(exc)) from None
    target.write_text(text)
    _out.print(f"wrote {escape(str(target))} ({SCHEMA_ID}, from example {example!r})")
    _out.print(f"next: edit it, then `worldgym env validate {escape(str(target))}`")


@app.command()
def validate(
    spec: SpecArg,
    as_json: JsonOpt = False,
    audit_tasks: Annotated[
        int,
        typer.Option("--audit-tasks", min=0, max=10_000, help="Sample tasks to audit (0: skip)."),
    ] = AUDIT_TASKS,
) -> None:
    """Check a spec: format, fields, kinds, this machine's checks, and the degenerate-answer audit.

    The audit is what registration applies: it refuses a verifier that ignores
    the reference answer or pays for degenerate answers, and says which.
    """
    try:
        loaded = load_spec(spec)
        report = audit(load_environment(loaded), audit_tasks) if audit_tasks else None
    except SpecError as exc:
        if as_json:
            typer.echo(json.dumps({"valid": False, "error": str(exc)}))
            raise typer.Exit(EXIT_FAILED) from None
        raise fail(str(exc), EXIT_FAILED) from None
    except SandboxError as exc:
        raise fail(f"cannot audit a code environment on this machine: {exc}") from None
    except GymError as exc:  # a sample task of the audit could not be derived
        raise fail(f"the audit failed: {exc}", EXIT_FAILED) from None
    refusal = report.refusal() if report is not None else None
    canonical = loaded.canonical_bytes()
    generators = [
        getattr(leaf, "dataset", None) or f"{leaf.kind} v{getattr(leaf, 'version', '?')}"
        for leaf in leaf_generators(loaded.generator)
    ]
    summary: dict[str, Any] = {
        "valid": refusal is None,
        "name": loaded.name,
        "generator": loaded.generator.kind,
        "sources": generators,
        "extract": loaded.extract.kind,
        "verifier": loaded.verifier.kind,
        "max_tokens": loaded.max_tokens,
        "canonical_bytes": len(canonical),
        "audit": _audit_json(report, refusal),
    }
    if as_json:
        typer.echo(json.dumps(summary))
        if refusal is not None:
            raise typer.Exit(EXIT_FAILED)
        return
    if refusal is not None:
        raise fail(f"refused: {refusal}", EXIT_FAILED)
    sources = ", ".join(generators)
    checked = (
        f"; audit of {report.tasks} tasks: worst degenerate answer {report.worst()[0]} "
        f"earns {report.worst()[1]:.2f}"
        if report is not None and report.rows
        else ""
    )
    _out.print(
        f"[green]valid[/] {escape(loaded.name)}: {loaded.generator.kind} ({escape(sources)}), "
        f"extract {loaded.extract.kind}, verifier {loaded.verifier.kind}, "
        f"{len(canonical)} canonical bytes{escape(checked)}"
    )


def _audit_json(report: AuditReport | None, refusal: str | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "tasks": report.tasks,
        "reference_mean": report.reference_mean,
        "credit": {name: round(row[0], 4) for name, row in report.rows.items()},
        "refusal": refusal,
    }


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """Print the JSON Schema of worldgym.env/1 (for editors and spec authors)."""
    text = json.dumps(json_schema(), indent=2, sort_keys=True)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n")
        _out.print(f"wrote {escape(str(output))}")


@app.command()
def examples() -> None:
    """List the example environments shipped with WorldGym."""
    for name in example_names():
        _out.print(f"{name}\t{escape(str(example_path(name)))}")


@dataclass(frozen=True, slots=True)
class Derivation:
    """The inputs a task is derived from, besides its index (see :func:`gym.derive.task_seed`)."""

    seed: str
    env_id: int
    version: int
    miner: str


def render_tasks(
    env: Environment, at: Derivation, indices: list[int], *, as_json: bool, with_answers: bool
) -> None:
    """Print the tasks for ``indices`` (answers and metadata only with ``with_answers``)."""
    try:
        tasks = env.tasks(at.seed, at.env_id, at.version, at.miner, indices)
    except GymError as exc:
        raise fail(str(exc)) from None
    if as_json:
        rows = [
            {**task.to_json(with_answer=with_answers), "prompt": env.prompt(task)} for task in tasks
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for task in tasks:
        _out.print(
            f"[bold]task {task.index}[/] ({escape(task.source)}) seed 0x{task.task_seed.hex()}"
        )
        typer.echo(task.question)
        if with_answers:
            _out.print(f"[dim]answer:[/] {escape(str(task.answer))}")
        _out.print()


@app.command()
def tasks(
    ctx: typer.Context,
    spec: SpecOrIdArg,
    *,
    miner: MinerOpt,
    epoch: EpochOpt = None,
    seed: SeedOpt = None,
    env_id: EnvIdOpt = None,
    version: VersionOpt = None,
    count: Annotated[int, typer.Option("--count", min=1, max=10_000, help="How many tasks.")] = 5,
    start: Annotated[str, typer.Option("--start", help="First index (decimal or 0x hex).")] = "0",
    as_json: JsonOpt = False,
    with_answers: Annotated[
        bool, typer.Option("--with-answers", help="Show answers (authors).")
    ] = False,
) -> None:
    """Derive the tasks a miner gets: indices START .. START+COUNT-1.

    SPEC_OR_ID is a spec file (give --seed --env --version) or a registered
    environment id (give --epoch: seed and spec come from the chain).
    """
    first = parse_index(start)
    if first + count - 1 >= 2**256:
        raise fail("--start + --count runs past 2**256 - 1")
    env, at = _target(
        ctx, spec, miner=miner, epoch=epoch, seed=seed, env_id=env_id, version=version
    )
    indices = list(range(first, first + count))
    render_tasks(env, at, indices, as_json=as_json, with_answers=with_answers)


def _completion(text: str | None, path: Path | None) -> str:
    if (text is None) == (path is None):
        raise fail(
            "give exactly one of --completion TEXT or --completion-file PATH ('-' for stdin)"
        )
    if text is not None or path is None:
        return text or ""
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None
    return raw.decode("utf-8", errors="replace")


def render_score(
    env: Environment, at: Derivation, index: int, completion: str, *, as_json: bool
) -> None:
    """Print the score and reason of one completion for the task at ``index``."""
    try:
        task = env.task(at.seed, at.env_id, at.version, at.miner, index)
        score = env.score(task, completion)
    except GymError as exc:
        raise fail(str(exc)) from None
    extracted = env.extract(completion)
    if as_json:
        row: dict[str, Any] = {"index": str(index), **score.to_json(), "extracted": extracted}
        typer.echo(json.dumps(row, ensure_ascii=False))
        return
    _out.print(f"score {score.value:g}: {escape(score.reason)}")


@app.command()
def score(
    ctx: typer.Context,
    spec: SpecOrIdArg,
    *,
    miner: MinerOpt,
    epoch: EpochOpt = None,
    seed: SeedOpt = None,
    env_id: EnvIdOpt = None,
    version: VersionOpt = None,
    index: Annotated[str, typer.Option("--index", help="Task index (decimal or 0x hex).")],
    completion: Annotated[
        str | None, typer.Option("--completion", help="The completion text.")
    ] = None,
    completion_file: Annotated[
        Path | None,
        typer.Option("--completion-file", help="Read the completion from a file, '-' = stdin."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score one completion for one task (exit 0 whatever the score; 2 on bad input)."""
    text = _completion(completion, completion_file)
    env, at = _target(
        ctx, spec, miner=miner, epoch=epoch, seed=seed, env_id=env_id, version=version
    )
    render_score(env, at, parse_index(index), text, as_json=as_json)
