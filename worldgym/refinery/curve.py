"""The refinery's learning curve: a JSON history of rounds and a PNG of pass@1 per round.

``history.json`` is ``{"rounds": [record, ...]}``. A record is a dict with
``round`` (1, 2, ...; assigned on append), ``accepted`` (whether the gate let
the candidate through) and ``environments``: ``{name: {"parent": pass@1,
"candidate": pass@1}}``; anything else (run key, epochs, traces, the
``algorithm``) is carried along. A record may name a ``series`` (e.g. the
flywheel bench's ``sft`` and ``grpo`` lineages, trained side by side): rounds
are numbered within a series and each (environment, series) is its own line.
Appending a record whose ``run`` equals the last record's replaces it (a
resumed run reports once). Once a round's model is registered the record
also carries ``model_id`` and ``metrics`` (the document whose keccak256 is the
model's on-chain ``metricsDigest``), which is where the ledger and the
dashboard find a model's metrics (:func:`annotate_round`). The PNG draws,
per environment (and series), the parent's pass@1 before the first round and
each round's candidate, hollow where the gate refused it; a round trained
with GRPO is a square, one fine-tuned a circle.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from worldgym.core.files import durable_path, write_durably
from worldgym.refinery.errors import RefineryError

__all__ = [
    "CURVE_NAME",
    "HISTORY_NAME",
    "annotate_round",
    "append_history",
    "append_round",
    "load_history",
    "plot_learning_curve",
]

CURVE_NAME = "learning_curve.png"
HISTORY_NAME = "history.json"


def _history_file(path: Path) -> Path:
    path = Path(path)
    return path / HISTORY_NAME if path.is_dir() or not path.suffix else path


def _rate(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RefineryError(f"{what} must be a number in [0, 1], not {value!r}")
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise RefineryError(f"{what} must be a number in [0, 1], not {value!r}")
    return float(value)


def _check(record: Mapping[str, Any]) -> None:
    envs = record.get("environments")
    if not isinstance(envs, Mapping) or not envs:
        raise RefineryError(
            "a round record needs 'environments': {name: {'parent': p, 'candidate': p}}"
        )
    for name, values in envs.items():
        if not isinstance(values, Mapping):
            raise RefineryError(f"environment {name!r}: expected {{'parent', 'candidate'}}")
        _rate(values.get("parent"), f"{name} parent pass@1")
        _rate(values.get("candidate"), f"{name} candidate pass@1")


def load_history(path: Path) -> list[dict[str, Any]]:
    """The rounds in ``path`` (a run directory holding ``history.json``, or the file itself).

    An empty list when there is no history yet.
    """
    file = _history_file(path)
    if not file.exists():
        return []
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise RefineryError(f"cannot read the history {file}: {exc}") from None
    rounds = data.get("rounds") if isinstance(data, dict) else None
    if not isinstance(rounds, list) or not all(isinstance(r, dict) for r in rounds):
        raise RefineryError(f"{file} has no list of rounds; move it away to start a new history")
    return rounds


def append_history(path: Path, record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Append ``record`` to the history at ``path`` (atomically) and return the whole history.

    The record gets the next ``round`` number of its ``series``, or replaces
    the last record when both carry the same ``run``.
    """
    _check(record)
    file = _history_file(path)
    rounds = load_history(file)
    entry = dict(record)
    entry.setdefault("accepted", True)
    if rounds and "run" in entry and rounds[-1].get("run") == entry["run"]:
        entry["round"] = rounds[-1]["round"]
        rounds[-1] = entry
    else:
        same = [r for r in rounds if r.get("series") == entry.get("series")]
        entry["round"] = (same[-1]["round"] + 1) if same else 1
        rounds.append(entry)
    _write_history(file, rounds)
    return rounds


def _write_history(file: Path, rounds: Sequence[Mapping[str, Any]]) -> None:
    body = json.dumps({"rounds": rounds}, indent=1, sort_keys=True, default=str, allow_nan=False)
    write_durably(file, body.encode() + b"\n")


def annotate_round(root: Path, run: str, fields: Mapping[str, Any]) -> bool:
    """Add ``fields`` to the record of ``run`` in ``root/history.json`` (atomically).

    Idempotent; False when no record of ``run`` is there (nothing is written).
    """
    file = _history_file(Path(root))
    rounds = load_history(file)
    for entry in rounds:
        if entry.get("run") == run:
            if all(entry.get(k) == v for k, v in fields.items()):
                return True
            entry.update(fields)
            _write_history(file, rounds)
            return True
    return False


def append_round(root: Path, record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """:func:`append_history` into ``root/history.json``; redraw ``root/learning_curve.png``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rounds = append_history(root / HISTORY_NAME, record)
    plot_learning_curve(rounds, root / CURVE_NAME)
    return rounds


def plot_learning_curve(
    history: Sequence[Mapping[str, Any]], path: Path, *, title: str = "Refinery learning curve"
) -> Path:
    """Plot held-out pass@1 against round, one line per environment and series, to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not history:
        raise RefineryError("the history is empty: run a round before plotting")
    series: dict[str, list[tuple[int, float, bool, str]]] = {}
    for number, record in enumerate(history, start=1):
        _check(record)
        at = int(record.get("round", number))
        label = f" ({record['series']})" if record.get("series") else ""
        marker = "s" if record.get("algorithm") == "grpo" else "o"
        for name, values in record["environments"].items():
            points = series.setdefault(f"{name}{label}", [])
            if not points:
                points.append((at - 1, _rate(values["parent"], "parent"), True, "o"))
            candidate = _rate(values["candidate"], "candidate")
            points.append((at, candidate, bool(record["accepted"]), marker))
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    try:
        for name, points in sorted(series.items()):
            (line,) = ax.plot([p[0] for p in points], [p[1] for p in points], label=name)
            for at, value, accepted, marker in points:
                ax.plot(
                    [at], [value], marker=marker, color=line.get_color(),
                    markerfacecolor=line.get_color() if accepted else "none",
                )  # fmt: skip
        ax.set_xlabel("round")
        ax.set_ylabel("pass@1 (held-out)")
        ax.set_ylim(0.0, 1.0)
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        with durable_path(Path(path), suffix=".png") as tmp:
            fig.savefig(tmp, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
    return Path(path)
