"""``worldgym model init DIR``: a base checkpoint to register, made here or copied from one.

Without a model nobody can mine, and a devnet starts with none. ``model init``
makes one a newcomer can register at once (``worldgym model register DIR``):

* by default the tiny byte-level model of :mod:`worldgym.policy.tiny` (no download),
  warmed up briefly on an environment's answer format (``--warm-up sums``, about a
  minute on two cores) so that it solves a task now and then, which is what gives
  its batches a learning signal, and so a reward; ``--no-warm-up`` skips that (its
  batches then score 0);
* or ``--from HF_DIR``: an existing Hugging Face checkpoint directory, checked
  (config, safetensors weights, a tokenizer with a chat template) and copied.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from worldgym.cli.options import JsonOpt
from worldgym.core.errors import UsageError
from worldgym.core.inputs import parse_existing_path

if TYPE_CHECKING:
    from worldgym.gym import Environment

__all__ = ["check_hf_checkpoint", "model_init"]

_err = Console(stderr=True, highlight=False, soft_wrap=True)
_COPIED = (".json", ".safetensors", ".jinja", ".txt", ".model", ".tiktoken")


def check_hf_checkpoint(source: Path) -> list[Path]:
    """The files of the Hugging Face checkpoint in ``source`` worth pinning; a UsageError
    that says what is missing otherwise."""
    parse_existing_path(source, "--from", directory=True)
    missing = [
        name for name in ("config.json", "tokenizer_config.json") if not (source / name).is_file()
    ]
    if missing:
        raise UsageError(
            f"{source} is not a Hugging Face checkpoint: it has no {', '.join(missing)}"
        )
    if not any(source.glob("*.safetensors")):
        raise UsageError(
            f"{source} has no *.safetensors weights (convert pytorch_model.bin with "
            "transformers' save_pretrained(..., safe_serialization=True))"
        )
    config = json.loads((source / "tokenizer_config.json").read_text())
    if not config.get("chat_template") and not (source / "chat_template.jinja").is_file():
        raise UsageError(
            f"{source}'s tokenizer has no chat template: miners build prompts with it, so a "
            "checkpoint without one cannot mine"
        )
    return [p for p in sorted(source.iterdir()) if p.is_file() and p.suffix in _COPIED]


def model_init(  # noqa: PLR0917 - a Typer command: one parameter per option
    model_dir: Annotated[Path, typer.Argument(help="where to write the checkpoint (new or empty)")],
    source: Annotated[
        Path | None,
        typer.Option("--from", help="copy this Hugging Face checkpoint directory instead"),
    ] = None,
    warm_up: Annotated[
        str,
        typer.Option(
            "--warm-up",
            help="teach the tiny model this environment's answer format (an example name "
            "or a spec file)",
        ),
    ] = "sums",
    no_warm_up: Annotated[
        bool, typer.Option("--no-warm-up", help="the tiny model as initialised (scores 0)")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", min=0, help="the tiny model's init seed")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Make a base checkpoint to register: the tiny local model (warmed up), or a copy of a
    Hugging Face directory. Then: worldgym model register DIR."""
    target = model_dir.expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{model_dir} exists and is not an empty directory: pick a new one")
    started = time.monotonic()
    if source is not None:
        files = check_hf_checkpoint(source.expanduser())
        target.mkdir(parents=True, exist_ok=True)
        for path in files:
            shutil.copy2(path, target / path.name)
        made = f"copied {len(files)} files of {source}"
    elif no_warm_up:
        from worldgym.policy.tiny import build_tiny_model

        build_tiny_model(target, seed=seed)
        made = "the tiny byte-level model, as initialised"
    else:
        env = _environment(warm_up)
        _err.print(f"warming up the tiny model on {env.spec.name} (about a minute on a CPU)...")
        from worldgym.refinery.pretrain import pretrain_tiny

        pretrain_tiny(target, env, model_seed=seed)
        made = f"the tiny byte-level model, warmed up on {env.spec.name}"
    seconds = time.monotonic() - started
    if as_json:
        typer.echo(json.dumps({"path": str(target), "made": made, "seconds": round(seconds, 1)}))
        return
    typer.echo(f"{made} in {target} ({seconds:.0f} s)")
    typer.echo(f"register it: worldgym model register {model_dir}")


def _environment(name_or_path: str) -> Environment:
    from worldgym.gym import load_environment
    from worldgym.gym.environment import load_spec
    from worldgym.gym.environments import example_names, example_path

    path = Path(name_or_path)
    if not path.is_file():
        if name_or_path not in example_names():
            raise UsageError(
                f"--warm-up {name_or_path!r} is neither a spec file nor an example "
                f"({', '.join(example_names())})"
            )
        path = example_path(name_or_path)
    return load_environment(load_spec(path))
