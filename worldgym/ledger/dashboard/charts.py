"""The dashboard's plots, drawn on the server with matplotlib (Agg) as PNG bytes.

Figures are built with the object API (no pyplot state), so request threads can
draw concurrently.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from worldgym.core.amounts import WAD
from worldgym.ledger.reports import EpochRewards

__all__ = ["rewards_png"]

_COLORS = {"miners": "#2f6fdf", "validators": "#e08a1e", "environments": "#2aa876"}


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _figure() -> tuple[Any, Any]:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(10, 2.8), dpi=100, layout="constrained")
    ax = fig.subplots()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    return fig, ax


def rewards_png(rows: Sequence[EpochRewards], title: str) -> bytes:
    """Stacked bars of credits per epoch by role, in WGT."""
    fig, ax = _figure()
    epochs = [r.epoch for r in rows]
    bottom = [0.0] * len(rows)
    for label, values in (
        ("miners", [r.miner / WAD for r in rows]),
        ("validators", [r.validator / WAD for r in rows]),
        ("environments", [r.environment / WAD for r in rows]),
    ):
        ax.bar(epochs, values, bottom=bottom, label=label, color=_COLORS[label], width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title(title, loc="left", fontsize=10)
    ax.set_xlabel("epoch")
    ax.set_ylabel("WGT credited")
    if rows:
        fig.legend(frameon=False, fontsize=8, ncols=3, loc="outside upper right")
    else:
        ax.text(0.5, 0.5, "no rewards yet", ha="center", va="center", transform=ax.transAxes)
    return _png(fig)
