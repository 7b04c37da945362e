"""``worldgym demo``: the whole protocol on one machine, in about two minutes (``make demo``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from worldgym.deploy.demo import DemoOptions, play

__all__ = ["demo"]


def demo(
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="mine/validate/refine rounds")] = 3,
    tasks: Annotated[int, typer.Option("--tasks", min=1, help="tasks per batch")] = 192,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="keep the demo's data here")
    ] = None,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="dashboard port (0: a free one)")
    ] = 0,
    keep: Annotated[
        bool, typer.Option("--keep", help="leave anvil and the dashboard up until Ctrl-C")
    ] = False,
) -> None:
    """The whole protocol on this machine: mine, validate and refine, then the ledger.

    A local anvil chain with the contracts, two environments, two miners, three
    validators and the refinery; every process it started is stopped at the end.
    """
    play(DemoOptions(rounds=rounds, tasks=tasks, data_dir=data_dir, port=port, keep=keep))
